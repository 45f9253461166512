/** The Check step of the reconcile state machine. */
import { check } from '../../shared/sync/steps';
import { stepLambda } from './step';

export const handler = stepLambda('check', check);
