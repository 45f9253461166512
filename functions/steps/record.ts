/** The Record step of the reconcile state machine. */
import { record } from '../../shared/sync/steps';
import { stepLambda } from './step';

export const handler = stepLambda('record', record);
