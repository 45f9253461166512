/** The Dependencies step of the reconcile state machine. */
import { dependencies } from '../../shared/sync/steps';
import { stepLambda } from './step';

export const handler = stepLambda('dependencies', dependencies);
