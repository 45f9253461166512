/** The Dependencies step of the reconcile state machine. */
import { dependencies } from '../../shared/sync/steps';
import { makeStep } from './step';

export const handler = makeStep(dependencies);
