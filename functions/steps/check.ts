/** The Check step of the reconcile state machine. */
import { check } from '../../shared/sync/steps';
import { makeStep } from './step';

export const handler = makeStep(check);
