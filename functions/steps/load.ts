/** The Load step of the reconcile state machine. */
import { loadState } from '../../shared/sync/steps';
import { makeStep } from './step';

export const handler = makeStep(loadState);
