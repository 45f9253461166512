/** The Load step of the reconcile state machine. */
import { loadState } from '../../shared/sync/steps';
import { stepLambda } from './step';

export const handler = stepLambda('load', loadState);
