/** The Delete step of the reconcile state machine. */
import { remove } from '../../shared/sync/steps';
import { makeStep } from './step';

export const handler = makeStep(remove);
