/** The Policies step of the reconcile state machine. */
import { policies } from '../../shared/sync/steps';
import { makeStep } from './step';

export const handler = makeStep(policies);
