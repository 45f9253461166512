/**
 * The reconcile step Lambdas: each is one function of shared/sync/steps.ts behind a thin adapter.
 * Errors keep their name (`Backend.Retryable`, `Backend.Terminal`), which is what the state
 * machine's Retry and Catch match.
 */
import type { Context } from 'aws-lambda';
import { composeSyncFromEnv } from '../../shared/adapters/compose';
import type { ReconcileState, SyncContext } from '../../shared/sync/steps';
import { observability, observed } from '../observability';

/** A step function of the core. */
export type StepFn<R> = (state: ReconcileState, ctx: SyncContext) => Promise<R>;

/** A Lambda-shaped step handler. */
export type StepHandler<R> = (event: ReconcileState, context?: Context) => Promise<R>;

/** Wrap a step around a lazily composed context (once per container). */
export function makeStep<R>(fn: StepFn<R>, compose: () => SyncContext = composeSyncFromEnv): StepHandler<R> {
  let ctx: SyncContext | undefined;
  return async (event) => {
    ctx ??= compose();
    return fn(event, ctx);
  };
}

/** A step as a Lambda: Powertools logging, tracing and a completed-steps metric around makeStep. */
export function stepLambda<R>(name: string, fn: StepFn<R>) {
  const o = observability(`xos-step-${name}`);
  return observed(
    makeStep(fn, () => composeSyncFromEnv({ log: o.log })),
    o,
    () => ({ StepsCompleted: 1 }),
  );
}
