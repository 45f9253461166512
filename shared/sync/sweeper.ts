import { DEPENDENCY_RANK } from '../model/graph';
import { MODELS } from '../model/registry';
import { BY_KIND_INDEX, kindPartitions } from '../model/table';
import { needsSynchronizer } from '../store/keys';
import type { StoredObject } from '../store/store';
import { executionName } from './contract';
import { driverFor, type SyncContext } from './steps';

/** Options of one sweep. */
export interface SweepOptions {
  /** Objects written less than this long ago are left to their stream-started execution. */
  readonly graceMs?: number;
  /** Explicit due bound instead of now - grace (after a restart: everything not terminal). */
  readonly dueBy?: string;
  /** Most objects restarted per sweep. */
  readonly limit?: number;
}

/** Restart every object whose synchronizer work is due. Returns the names of the executions started. */
export async function sweepDue(ctx: SyncContext, options: SweepOptions = {}): Promise<string[]> {
  const now = ctx.clock();
  const dueBy = options.dueBy ?? new Date(now.getTime() - (options.graceMs ?? 30_000)).toISOString();
  const due = await ctx.store.listDue(dueBy, options.limit ?? 200);
  if (due.length === 0) return [];
  const objects = await ctx.store.getMany(due);
  const stamp = now.getTime().toString(36);
  const claimUntil = new Date(now.getTime() + ctx.options.leaseMs).toISOString();
  const started: string[] = [];
  // Dependencies first (dependents first for deletions), so a bulk restart mostly finds what it
  // waits for already under way instead of parking most objects as waiters.
  const rank = (o: StoredObject) => (DEPENDENCY_RANK.get(o.kind) ?? 0) * (o.deleted ? -1 : 1);
  for (const obj of [...objects.values()].sort((a, b) => rank(a) - rank(b))) {
    if (!needsSynchronizer(obj)) continue;
    // Claim first: until the lease time has passed, later sweeps leave this object to the
    // execution started here (which may wait for a concurrency slot). A failed claim means
    // something wrote the object meanwhile: it is being handled.
    if (!(await ctx.store.postponeDue(obj, claimUntil, now.toISOString()))) continue;
    const name = executionName(obj, `s${stamp}`);
    const outcome = await ctx.starter.start(name, {
      kind: obj.kind,
      id: obj.id,
      version: obj.version,
      reason: 'sweep',
    });
    if (outcome === 'started') started.push(name);
  }
  if (started.length > 0) ctx.log.info('sweeper restarted objects', { started: started.length, due: due.length });
  return started;
}

/** Where drift observation left off, per kind (kept by the caller between sweeps). */
export type DriftCursor = Map<string, string | undefined>;

/**
 * Observe up to `limit` enacted objects that have a back-end presence; an object missing from its
 * back-end, or different there, is marked (backend_status "drift: ..."), logged in its history
 * and restarted, so the back-end converges back to the model.
 */
export async function observeDrift(ctx: SyncContext, cursor: DriftCursor, limit = 100): Promise<number> {
  let observed = 0;
  let repaired = 0;
  for (const model of MODELS) {
    if (observed >= limit) break;
    for (const partition of kindPartitions(model)) {
      if (observed >= limit) break;
      const key = `${model.kind}|${partition}`;
      const page = await ctx.store.queryPartition(BY_KIND_INDEX, partition, cursor.get(key), limit - observed);
      cursor.set(key, page.exhausted ? undefined : page.items[page.items.length - 1]?.id);
      for (const obj of page.items) {
        if (obj.deleted || obj.no_sync || obj.enacted_version !== obj.version || obj.backend_code !== 1) continue;
        const { client, dctx } = await driverFor(ctx, obj);
        if (!client) continue;
        observed++;
        const seen = await client.observe(obj, dctx);
        if (seen.exists && seen.upToDate) continue;
        const finding = seen.exists ? 'differs in the back-end' : 'is missing from the back-end';
        const message = `drift: ${obj.kind} ${obj.id} ${finding}; repairing`;
        try {
          await ctx.store.recordFeedback(obj, { enacted_version: null, backend_code: 0, backend_status: message });
        } catch {
          continue; // a newer version is on its way anyway
        }
        await ctx.store.appendHistory(obj.kind, obj.id, {
          time: ctx.clock().toISOString(),
          version: obj.version,
          step: 'Sweeper',
          outcome: 'drift',
          message,
        });
        ctx.log.info('drift detected', { kind: obj.kind, id: obj.id, version: obj.version, finding });
        await ctx.starter.start(executionName(obj, `d${ctx.clock().getTime().toString(36)}`), {
          kind: obj.kind,
          id: obj.id,
          version: obj.version,
          reason: 'sweep',
        });
        repaired++;
      }
    }
  }
  return repaired;
}
