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

/** Every by-kind index partition, in registry order: drift observation goes round them. */
const DRIFT_ROUND: readonly string[] = MODELS.flatMap((model) => kindPartitions(model));

/** The marker (a small table item) holding where drift observation resumes. */
export const DRIFT_MARKER = 'drift-cursor';

/** Where the round resumes: a partition and the last id observed in it. */
interface DriftPosition {
  readonly partition: string;
  readonly after?: string;
}

/**
 * Observe up to `limit` enacted objects that have a back-end presence, resuming where the last
 * sweep stopped (the position is kept in the table, so a cold-started sweeper Lambda carries on
 * rather than observing the first kinds again and never the last); at most `scanLimit` items are
 * read per sweep. An object missing from its back-end, or different there, is marked
 * (backend_status "drift: ..."), logged in its history and restarted, so the back-end converges
 * back to the model.
 */
export async function observeDrift(ctx: SyncContext, limit = 100, scanLimit = 10 * limit): Promise<number> {
  let observed = 0;
  let repaired = 0;
  let scanned = 0;
  const saved = parsePosition(await ctx.store.readMarker(DRIFT_MARKER));
  let index = Math.max(0, DRIFT_ROUND.indexOf(saved?.partition ?? ''));
  let after = DRIFT_ROUND[index] === saved?.partition ? saved?.after : undefined;
  // One full round at most per sweep: a table with little to observe is not read twice.
  for (let step = 0; step <= DRIFT_ROUND.length && observed < limit && scanned < scanLimit; ) {
    const partition = DRIFT_ROUND[index] as string;
    const page = await ctx.store.queryPartition(
      BY_KIND_INDEX,
      partition,
      after,
      Math.min(limit - observed, scanLimit - scanned),
    );
    scanned += page.items.length;
    after = page.items[page.items.length - 1]?.id ?? after;
    if (page.exhausted || page.items.length === 0) {
      index = (index + 1) % DRIFT_ROUND.length;
      after = undefined;
      step++;
    }
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
  const position: DriftPosition = { partition: DRIFT_ROUND[index] as string, after };
  await ctx.store.writeMarker(DRIFT_MARKER, JSON.stringify(position));
  return repaired;
}

function parsePosition(raw: string | undefined): DriftPosition | undefined {
  if (!raw) return undefined;
  try {
    const value = JSON.parse(raw) as Partial<DriftPosition>;
    return typeof value.partition === 'string'
      ? { partition: value.partition, after: typeof value.after === 'string' ? value.after : undefined }
      : undefined;
  } catch {
    return undefined; // an unreadable position starts the round again
  }
}
