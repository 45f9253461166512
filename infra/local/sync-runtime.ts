/**
 * The synchronizer, locally: a poller on the DynamoDB Local stream feeds the unchanged dispatch
 * handler, which starts executions of statemachines/reconcile.asl.json in aws-local-stepfunctions,
 * whose Task states call the unchanged step handlers. A timer runs the sweeper. On start, a sweep
 * restarts every object left dirty by a previous run (nothing can be running after a restart), so
 * a crash mid-convergence followed by a restart converges.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDispatchHandler } from '../../functions/dispatch/handler';
import { makeStep } from '../../functions/steps/step';
import { composeSync } from '../../shared/adapters/compose';
import type { DynamoStore } from '../../shared/adapters/dynamodb/dynamo-store';
import type { Logger } from '../../shared/api/errors';
import type { DriverRouter } from '../../shared/backends/driver';
import { jsonLogger } from '../../shared/log/json-logger';
import { NEVER } from '../../shared/store/keys';
import type { SyncContext, SyncOptions } from '../../shared/sync/steps';
import { observeDrift, sweepDue } from '../../shared/sync/sweeper';
import { RECONCILE_DEFINITION_PATH, RECONCILE_STEPS } from '../../shared/sync/workflow';
import { StreamPoller } from './stream-poller';
import { type LocalLambdaHandler, LocalWorkflows } from './workflow-runner';

/** Options of the local synchronizer. */
export interface SyncRuntimeOptions {
  readonly endpoint: string;
  readonly tableName: string;
  readonly drivers: DriverRouter;
  /** Share the API's store (and its DynamoDB call counter). */
  readonly store?: DynamoStore;
  readonly options?: Partial<SyncOptions>;
  /** Scales the state machine's Wait and Retry intervals (tests: 0.01). */
  readonly timeScale?: number;
  readonly concurrency?: number;
  /** Sweeper period; 0 disables the timer (tests call sweep() themselves). Default 5 s. */
  readonly sweepIntervalMs?: number;
  /** Objects younger than this are left to their stream-started execution. Default 30 s. */
  readonly sweepGraceMs?: number;
  /** Observe drift every N sweeps (default 6); 0 never. */
  readonly driftEvery?: number;
  readonly pollIntervalMs?: number;
  readonly log?: Logger;
  readonly clock?: () => Date;
}

/** A running local synchronizer. */
export interface SyncRuntime {
  readonly ctx: SyncContext;
  readonly workflows: LocalWorkflows;
  readonly poller: StreamPoller;
  /** One sweeper pass (due work), plus drift observation when asked. */
  sweep(options?: {
    drift?: boolean;
    graceMs?: number;
  }): Promise<{ restarted: number; started: string[]; repaired: number }>;
  /** Resolves when the stream is consumed and no execution runs. */
  settle(timeoutMs?: number): Promise<void>;
  /** Orderly stop: timers, poller, then executions. */
  stop(): Promise<void>;
  /** Abandon everything at once, as a crash would (in-flight executions are aborted). */
  crash(): void;
}

/** Local function ARN of a step. */
export function localFunctionArn(name: string): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:xos-${name}`;
}

/** Start the local synchronizer against a table that already exists. */
export async function startSyncRuntime(options: SyncRuntimeOptions): Promise<SyncRuntime> {
  const log = options.log ?? jsonLogger('xos-sync-local');
  const definition = JSON.parse(readFileSync(join(__dirname, '..', '..', RECONCILE_DEFINITION_PATH), 'utf8'));
  const substitutions: Record<string, string> = {};
  const handlers: Record<string, LocalLambdaHandler> = {};
  let ctx: SyncContext | undefined;
  for (const [placeholder, step] of Object.entries(RECONCILE_STEPS)) {
    const arn = localFunctionArn(step.name);
    substitutions[placeholder] = arn;
    const handler = makeStep(step.fn, () => ctx as SyncContext);
    handlers[arn] = (event) => handler(event as never);
  }
  const workflows = new LocalWorkflows({
    definition,
    substitutions,
    handlers,
    concurrency: options.concurrency ?? 32,
    timeScale: options.timeScale,
    log,
  });
  ctx = composeSync({
    tableName: options.tableName,
    dynamodbEndpoint: options.endpoint,
    drivers: options.drivers,
    starter: workflows,
    options: options.options,
    store: options.store,
    log,
    clock: options.clock,
  });
  const syncCtx = ctx;
  const poller = new StreamPoller({
    handler: makeDispatchHandler(() => workflows, { log }),
    tableName: options.tableName,
    endpoint: options.endpoint,
    startingPosition: 'LATEST',
    pollIntervalMs: options.pollIntervalMs ?? 100,
    log,
  });
  await poller.start();

  // Nothing runs after a (re)start: every dirty object that is not a terminal failure is due now.
  const recovered = await sweepDue(syncCtx, { dueBy: NEVER, limit: 10_000 });
  if (recovered.length > 0) log.info('restarted objects left dirty by a previous run', { restarted: recovered.length });

  let sweeps = 0;
  let sweeping = false;
  const sweep: SyncRuntime['sweep'] = async (o = {}) => {
    const started = await sweepDue(syncCtx, { graceMs: o.graceMs ?? options.sweepGraceMs ?? 30_000 });
    const repaired = o.drift ? await observeDrift(syncCtx) : 0;
    return { restarted: started.length, started, repaired };
  };
  const interval = options.sweepIntervalMs ?? 5_000;
  const timer =
    interval > 0
      ? setInterval(() => {
          if (sweeping) return;
          sweeping = true;
          sweeps++;
          const every = options.driftEvery ?? 6;
          sweep({ drift: every > 0 && sweeps % every === 0 })
            .catch((err: unknown) =>
              log.error('sweep failed', { error: err instanceof Error ? err.message : String(err) }),
            )
            .finally(() => {
              sweeping = false;
            });
        }, interval)
      : undefined;
  timer?.unref();

  return {
    ctx: syncCtx,
    workflows,
    poller,
    sweep,
    async settle(timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        await poller.drained(Math.max(1, deadline - Date.now()));
        await workflows.idle();
        await poller.drained(Math.max(1, deadline - Date.now()));
        if (workflows.running() === 0) return;
        if (Date.now() > deadline) throw new Error('the synchronizer did not settle in time');
      }
    },
    async stop() {
      if (timer) clearInterval(timer);
      await poller.stop();
      await workflows.stop();
    },
    crash() {
      if (timer) clearInterval(timer);
      void poller.stop();
      void workflows.stop();
    },
  };
}
