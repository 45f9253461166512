/** The Policies step of the reconcile state machine. */
import { policies } from '../../shared/sync/steps';
import { stepLambda } from './step';

export const handler = stepLambda('policies', policies);
