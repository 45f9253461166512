/** The Sync step of the reconcile state machine. */
import { sync } from '../../shared/sync/steps';
import { makeStep } from './step';

export const handler = makeStep(sync);
