/** The Delete step of the reconcile state machine. */
import { remove } from '../../shared/sync/steps';
import { stepLambda } from './step';

export const handler = stepLambda('delete', remove);
