/**
 * The sweeper Lambda, on an EventBridge schedule: restarts objects whose synchronizer work is due
 * (lost executions, elapsed backoff) and observes a page of enacted objects for drift, resuming
 * where the last run stopped (the position is a marker item in the table, so cold starts carry on).
 */
import type { Context } from 'aws-lambda';
import { composeSyncFromEnv } from '../../shared/adapters/compose';
import type { SyncContext } from '../../shared/sync/steps';
import { observeDrift, sweepDue } from '../../shared/sync/sweeper';
import { observability, observed } from '../observability';

/** What one sweep did. */
export interface SweepResult {
  readonly restarted: number;
  readonly repaired: number;
}

/** Options of the sweeper handler. */
export interface SweeperOptions {
  /** Objects written less than this long ago are left to their stream-started execution (default 30 s). */
  readonly graceMs?: number;
  /** Enacted objects observed for drift per run (default 100; 0 disables drift observation). */
  readonly driftLimit?: number;
}

/** Build the handler around a lazily composed synchronizer context (once per container). */
export function makeSweeperHandler(compose: () => SyncContext, options: SweeperOptions = {}) {
  let ctx: SyncContext | undefined;
  const driftLimit = options.driftLimit ?? 100;
  return async (_event: unknown, _context?: Context): Promise<SweepResult> => {
    ctx ??= compose();
    const started = await sweepDue(ctx, { graceMs: options.graceMs ?? 30_000 });
    const repaired = driftLimit > 0 ? await observeDrift(ctx, driftLimit) : 0;
    return { restarted: started.length, repaired };
  };
}

const o = observability('xos-sweeper');

/** The Lambda handler. */
export const handler = observed(
  makeSweeperHandler(() => composeSyncFromEnv({ log: o.log })),
  o,
  (_e, r) => ({
    SweepRestarts: r.restarted,
    DriftRepairs: r.repaired,
  }),
);
