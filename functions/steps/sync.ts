/** The Sync step of the reconcile state machine. */
import { sync } from '../../shared/sync/steps';
import { stepLambda } from './step';

export const handler = stepLambda('sync', sync);
