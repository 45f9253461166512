/** The Record step of the reconcile state machine. */
import { record } from '../../shared/sync/steps';
import { makeStep } from './step';

export const handler = makeStep(record);
