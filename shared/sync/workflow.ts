/**
 * The reconcile workflow's parts, declared once: which step function serves which Task
 * placeholder of statemachines/reconcile.asl.json, and the Lambda entry of each. The local runner
 * routes tasks with it; the CDK stack will create one function per entry and substitute its ARN.
 */
import {
  check,
  dependencies,
  loadState,
  policies,
  type ReconcileState,
  record,
  remove,
  type SyncContext,
  sync,
} from './steps';

/** One step: its Lambda entry name (functions/steps/<name>.ts) and its core function. */
export interface StepDefinition {
  readonly name: string;
  readonly fn: (state: ReconcileState, ctx: SyncContext) => Promise<unknown>;
}

/** Placeholder (definition substitution key) -> step. */
export const RECONCILE_STEPS: Readonly<Record<string, StepDefinition>> = {
  LoadFunctionArn: { name: 'load', fn: loadState },
  PoliciesFunctionArn: { name: 'policies', fn: policies },
  DependenciesFunctionArn: { name: 'dependencies', fn: dependencies },
  SyncFunctionArn: { name: 'sync', fn: sync },
  CheckFunctionArn: { name: 'check', fn: check },
  DeleteFunctionArn: { name: 'delete', fn: remove },
  RecordFunctionArn: { name: 'record', fn: record },
};

/** Path of the reconcile definition, relative to the repository root. */
export const RECONCILE_DEFINITION_PATH = 'statemachines/reconcile.asl.json';
