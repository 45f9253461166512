/**
 * The reconcile steps (DESIGN section 8), one function per state of statemachines/reconcile.asl.json:
 * Load -> Policies -> Dependencies -> Sync or Delete -> Check -> Record. Level-based: each step
 * re-reads the object and does nothing once a newer version exists; every feedback write is
 * conditional on the version being reconciled, so an old execution can never record over a newer
 * one. Steps throw only the back-end errors the state machine's Retry/Catch expect.
 */
import type { Logger } from '../api/errors';
import type { DriverContext, DriverRouter, ExternalClient, Handle, ObjectLookup } from '../backends/driver';
import { ConflictError, TerminalBackendError } from '../errors';
import { DEPENDENCY_RANK, incomingRefs, outgoingRefs, placedBy } from '../model/graph';
import { requireModel } from '../model/registry';
import { refIndex, refPartition, refSlot } from '../model/table';
import type { ObjectService } from '../objects/service';
import { POLICIES, type PolicyContext, refreshPlacements, SYNCHRONIZER } from '../policies';
import type { HistoryEntry, ObjectRef, Store, StoredObject } from '../store/store';
import { type ExecutionInput, executionName, type WorkflowStarter } from './contract';

/** Timing knobs of the synchronizer. */
export interface SyncOptions {
  /** First retry delay after an execution gives up; doubles per failure. */
  readonly retryBaseMs: number;
  /** Longest retry delay. */
  readonly retryCapMs: number;
  /** After this long without a record, the sweeper considers an execution lost and restarts it. */
  readonly leaseMs: number;
  /** Safety net: a waiting object is re-checked by the sweeper after this long even without a wake-up. */
  readonly waitRecheckMs: number;
  /** Check polls (Wait states) before a still-converging back-end object counts as failed. */
  readonly maxCheckPolls: number;
}

/** Production defaults. */
export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  retryBaseMs: 10_000,
  retryCapMs: 15 * 60_000,
  leaseMs: 5 * 60_000,
  waitRecheckMs: 10 * 60_000,
  maxCheckPolls: 90,
};

/** What the steps run against. */
export interface SyncContext {
  readonly store: Store;
  readonly objects: ObjectService;
  readonly drivers: DriverRouter;
  readonly starter: WorkflowStarter;
  readonly clock: () => Date;
  readonly options: SyncOptions;
  readonly log: Logger;
  readonly random?: () => number;
}

/** Actions Load can choose. */
export type Action = 'stop' | 'sync' | 'delete' | 'policy';

/** The state carried between steps (execution input plus each step's result). */
export interface ReconcileState extends ExecutionInput {
  readonly execution?: string;
  /** `policy`: the Policies step has work (a model policy of this kind, not yet run for this version). */
  readonly load?: { readonly action: Action; readonly why: string; readonly policy?: boolean };
  readonly deps?: { readonly status: 'ready' | 'waiting' | 'blocked' | 'stop'; readonly on?: string };
  /** Sync's result (Delete's too: `superseded` only). */
  readonly sync?: {
    readonly handle?: Handle | null;
    readonly settled?: boolean;
    readonly feedback?: Record<string, unknown>;
    /** Another execution took this version's lease over: this one records nothing. */
    readonly superseded?: boolean;
  };
  readonly check?: {
    readonly settled: boolean;
    readonly polls: number;
    readonly feedback?: Record<string, unknown>;
    readonly superseded?: boolean;
  };
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

/** Retry bookkeeping kept in `backend_register`. */
interface Register {
  /** The object version this bookkeeping belongs to (see dueAt). */
  version?: number;
  failures?: number;
  next_run?: string | null;
  terminal?: boolean;
  last_error?: string;
  last_failure?: string;
  last_success?: string;
  execution?: string;
  started?: string;
}

const register = (obj: StoredObject): Register => (obj.backend_register as Register | null) ?? {};
const ref = (obj: Pick<StoredObject, 'kind' | 'id'>): ObjectRef => ({ kind: obj.kind, id: obj.id });
const label = (obj: Pick<StoredObject, 'kind' | 'id'>) => `${obj.kind} ${obj.id}`;

/** Backoff before retry number `failures` (1-based): exponential, capped, with +-20 % jitter. */
export function backoffMs(failures: number, options: SyncOptions, random: () => number = Math.random): number {
  const raw = Math.min(options.retryCapMs, options.retryBaseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(raw * (0.8 + 0.4 * random()));
}

async function current(ctx: SyncContext, input: ExecutionInput): Promise<StoredObject | undefined> {
  const obj = await ctx.store.get(input.kind, input.id);
  return obj && obj.version === input.version ? obj : undefined;
}

/** Who holds the lease for this execution (Load takes it under this name). */
const leaseOwner = (state: ReconcileState) => state.execution ?? `${state.kind}-${state.id}-v${state.version}`;

/**
 * The object, while this execution holds its lease. A long execution (Sync retries, a Check loop
 * of minutes while a server builds) extends the lease once it is half spent, so the sweeper does
 * not start a second execution beside it. 'lost' when another execution took the lease over (this
 * one then records nothing); undefined when the version moved on.
 */
async function leased(ctx: SyncContext, state: ReconcileState): Promise<StoredObject | 'lost' | undefined> {
  const obj = await current(ctx, state);
  if (!obj) return undefined;
  const owner = leaseOwner(state);
  const left = Date.parse(String(obj.lease_until ?? '')) - ctx.clock().getTime();
  if (obj.lease_owner === owner && left > ctx.options.leaseMs / 2) return obj;
  const until = later(ctx, ctx.options.leaseMs);
  const renewed = await ctx.store.acquireLease(obj, owner, until, ctx.clock().toISOString(), {
    backend_register: { ...register(obj), next_run: until },
  });
  if (renewed) return renewed;
  return (await current(ctx, state)) ? 'lost' : undefined;
}

/** A feedback write that quietly yields when a newer version took over. */
async function feedback(
  ctx: SyncContext,
  obj: StoredObject,
  patch: Record<string, unknown>,
  options?: { releaseLease?: boolean },
): Promise<StoredObject | undefined> {
  try {
    return await ctx.store.recordFeedback(obj, patch, options);
  } catch (err) {
    if (err instanceof ConflictError) return undefined;
    throw err;
  }
}

async function history(
  ctx: SyncContext,
  obj: StoredObject,
  state: ReconcileState,
  step: string,
  outcome: HistoryEntry['outcome'],
  message: string,
  at?: Date,
): Promise<void> {
  await ctx.store.appendHistory(obj.kind, obj.id, {
    time: (at ?? ctx.clock()).toISOString(),
    version: obj.version,
    step,
    outcome,
    message,
    execution: state.execution,
  });
}

const later = (ctx: SyncContext, ms: number) => new Date(ctx.clock().getTime() + ms).toISOString();

/** Load as a state transition: the execution input plus the decision (the state machine's ResultPath is `$`). */
export async function loadState(state: ReconcileState, ctx: SyncContext): Promise<ReconcileState> {
  const { kind, id, version, reason, execution } = state;
  return { kind, id, version, reason, execution, load: await load(state, ctx) };
}

/** Load: decide what this execution does, and take the lease the sweeper watches. */
export async function load(state: ReconcileState, ctx: SyncContext): Promise<NonNullable<ReconcileState['load']>> {
  const obj = await ctx.store.get(state.kind, state.id);
  if (!obj) return { action: 'stop', why: 'purged' };
  if (obj.version !== state.version) return { action: 'stop', why: `version ${obj.version} owns the object` };
  let action: Action;
  const policyDirty = !obj.deleted && !obj.no_policy && ((obj.policed_version as number | null) ?? 0) < obj.version;
  // A kind without a model policy is policed by this very write: the Policies step is skipped.
  const policed =
    policyDirty && !POLICIES[obj.kind] ? { policed_version: obj.version, policy_status: 'done', policy_code: 1 } : {};
  if (obj.deleted) action = 'delete';
  else {
    const syncDirty = !obj.no_sync && !obj.lazy_blocked && ((obj.enacted_version as number | null) ?? 0) < obj.version;
    if (syncDirty) action = 'sync';
    else if (policyDirty && !POLICIES[obj.kind]) {
      await feedback(ctx, obj, policed);
      return { action: 'stop', why: 'policed; nothing to synchronize' };
    } else if (policyDirty) action = 'policy';
    else return { action: 'stop', why: 'already in sync' };
  }
  // One execution per object at a time: the lease is taken atomically, in the same write as the
  // bookkeeping; a second execution of the same version (a wake-up racing the stream's start, a
  // sweep) stops here. An expired lease (its execution crashed) is taken over.
  const leased = await ctx.store.acquireLease(
    obj,
    leaseOwner(state),
    later(ctx, ctx.options.leaseMs),
    ctx.clock().toISOString(),
    {
      ...policed,
      backend_register: {
        ...register(obj),
        version: obj.version,
        execution: state.execution,
        started: ctx.clock().toISOString(),
        next_run: later(ctx, ctx.options.leaseMs),
      },
    },
  );
  if (!leased) return { action: 'stop', why: 'another execution holds the lease, or a newer version took over' };
  return { action, why: state.reason, policy: policyDirty && POLICIES[obj.kind] !== undefined };
}

/** Policies: run the kind's model policy once per version; failures are recorded, not fatal to sync. */
export async function policies(state: ReconcileState, ctx: SyncContext): Promise<{ ran: boolean; ok: boolean }> {
  if (state.load?.action === 'delete') return { ran: false, ok: true };
  const obj = await current(ctx, state);
  if (!obj || obj.no_policy || ((obj.policed_version as number | null) ?? 0) >= obj.version)
    return { ran: false, ok: true };
  const policy = POLICIES[obj.kind];
  const policyCtx: PolicyContext = { objects: ctx.objects, store: ctx.store };
  try {
    if (policy) await policy(obj, policyCtx);
    if (obj.version > 1) await refreshPlacements(obj, policyCtx);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const failures = (register(obj).failures ?? 0) + 1;
    await feedback(ctx, obj, {
      policy_status: `policy failed: ${message}`.slice(0, 1024),
      policy_code: 2,
      backend_register: {
        ...register(obj),
        version: obj.version,
        next_run: later(ctx, backoffMs(failures, ctx.options, ctx.random)),
      },
    });
    await history(ctx, obj, state, 'Policies', 'policy', `policy failed: ${message}`);
    ctx.log.error('policy failed', {
      kind: obj.kind,
      id: obj.id,
      version: obj.version,
      step: 'Policies',
      error: message,
    });
    return { ran: true, ok: false };
  }
  await feedback(ctx, obj, { policed_version: obj.version, policy_status: 'done', policy_code: 1 });
  return { ran: true, ok: true };
}

/** Whether a dependency lets its dependents proceed. */
function dependencyState(dep: StoredObject | undefined): 'ready' | 'waiting' | 'blocked' | 'gone' {
  if (!dep) return 'gone';
  if (dep.deleted) return 'gone';
  if (dep.no_sync) return 'ready';
  if (dep.backend_code === 2) return 'blocked';
  return dep.enacted_version !== null && dep.enacted_version !== undefined && dep.backend_code === 1
    ? 'ready'
    : 'waiting';
}

/**
 * Dependencies, at the object level. Sync: every object this one references must be enacted
 * (else "waiting for <Kind> <id>", and this object is restarted by the dependency's record); a
 * failed dependency gives "Failed due to error in <Kind> <id>: ...". Delete: every object that
 * references this one must be gone first (dependents are removed before what they depend on).
 */
export async function dependencies(
  state: ReconcileState,
  ctx: SyncContext,
): Promise<NonNullable<ReconcileState['deps']>> {
  const obj = await current(ctx, state);
  if (!obj) return { status: 'stop' };
  if (state.load?.action === 'policy') {
    await feedback(ctx, obj, {}, { releaseLease: true }); // policies only: this execution is done
    return { status: 'stop' };
  }
  if (state.load?.action === 'delete') {
    const child = await firstDependent(ctx, obj);
    if (!child) return { status: 'ready' };
    await ctx.store.addWaiter(ref(child), ref(obj));
    await wait(ctx, obj, state, `waiting for ${label(child)} to be deleted`);
    // The child may have been purged between the query and the waiter: then nobody wakes us.
    if (!(await ctx.store.get(child.kind, child.id))) await restartSelf(ctx, obj);
    return { status: 'waiting', on: label(child) };
  }
  const model = requireModel(obj.kind);
  // Deepest dependency first: it is the one likely to finish last, so one wake-up usually finds
  // every other dependency ready too (instead of one wake-up per dependency).
  const refs = outgoingRefs(model, obj)
    .filter((r) => model.allFields[r.field]?.type !== 'refs' && r.id !== obj.id)
    .sort((a, b) => (DEPENDENCY_RANK.get(b.kind) ?? 0) - (DEPENDENCY_RANK.get(a.kind) ?? 0));
  if (refs.length === 0) return { status: 'ready' };
  const loaded = await ctx.store.getMany(refs);
  for (const r of refs) {
    const dep = loaded.get(r.id);
    const s = dependencyState(dep);
    if (s === 'ready') continue;
    if (s === 'gone' || !dep) {
      // Normally the dependency's deletion already cascaded to this object (a newer version
      // follows). A live object left referencing a deleted one (a create racing the delete) is
      // healed here by the registry's on-delete rule.
      await healOrphan(ctx, obj, r.field);
      await feedback(ctx, obj, {}, { releaseLease: true });
      return { status: 'stop' };
    }
    // Register the waiter, then record the outcome and release the lease, then look again: a
    // wake-up arriving before the release finds the lease held and stops, so if the dependency
    // moved meanwhile, this execution restarts the object itself (no lost wake-up).
    await ctx.store.addWaiter({ kind: r.kind, id: r.id }, ref(obj));
    if (s === 'blocked') {
      const message = `Failed due to error in ${label(dep)}: ${String(dep.backend_status)}`;
      await feedback(
        ctx,
        obj,
        {
          backend_code: 2,
          backend_status: message.slice(0, 1024),
          backend_register: { ...register(obj), version: obj.version, next_run: later(ctx, ctx.options.waitRecheckMs) },
        },
        { releaseLease: true },
      );
      await history(ctx, obj, state, 'Dependencies', 'error', message);
    } else {
      await wait(ctx, obj, state, `waiting for ${label(dep)}`);
    }
    const now = dependencyState(await ctx.store.get(r.kind, r.id));
    if (now !== s) await restartSelf(ctx, obj);
    return { status: s, on: label(dep) };
  }
  return { status: 'ready' };
}

/** Start this object again (its dependency moved while this execution was recording that it waits). */
async function restartSelf(ctx: SyncContext, obj: StoredObject): Promise<void> {
  const input = { kind: obj.kind, id: obj.id, version: obj.version, reason: 'wake' as const };
  await ctx.starter.start(executionName(obj, `w${ctx.clock().getTime().toString(36)}x`), input);
}

async function healOrphan(ctx: SyncContext, obj: StoredObject, field: string): Promise<void> {
  const model = requireModel(obj.kind);
  const rule = model.allFields[field]?.onDelete;
  try {
    if (rule === 'cascade') await ctx.objects.delete(model, obj.id);
    else if (rule === 'set_null')
      await ctx.objects.update(model, obj.id, 'patch', { [field]: null }, obj.version, SYNCHRONIZER);
    else return;
    ctx.log.info('healed an object left referencing a deleted one', { kind: obj.kind, id: obj.id, field, rule });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
  }
}

async function wait(ctx: SyncContext, obj: StoredObject, state: ReconcileState, message: string): Promise<void> {
  await feedback(
    ctx,
    obj,
    {
      backend_code: 0,
      backend_status: message,
      backend_register: { ...register(obj), version: obj.version, next_run: later(ctx, ctx.options.waitRecheckMs) },
    },
    { releaseLease: true },
  );
  await history(ctx, obj, state, 'Dependencies', 'waiting', message);
}

/** Any object (live or being deleted) still referencing `obj`. */
async function firstDependent(ctx: SyncContext, obj: StoredObject): Promise<StoredObject | undefined> {
  const own = await firstReferencing(ctx, obj.kind, obj.id, () => true);
  if (own) return own;
  // A placement record goes after the deleted dependents of what it places: the project after the
  // slice's instances, the back-end network after the network's ports (live dependents, such as
  // the instances of a slice that merely leaves this controller, do not hold it).
  const placed = placedBy(requireModel(obj.kind), obj);
  if (!placed) return undefined;
  return firstReferencing(ctx, placed.kind, placed.id, (c) => c.deleted && !requireModel(c.kind).places);
}

/** The first object (deleted or not, until purged) referencing kind/id that passes `keep`. */
async function firstReferencing(
  ctx: SyncContext,
  kind: string,
  id: string,
  keep: (child: StoredObject) => boolean,
): Promise<StoredObject | undefined> {
  for (const inc of incomingRefs(kind)) {
    const slot = refSlot(inc.model, inc.field);
    if (slot === undefined) continue;
    let after: string | undefined;
    for (;;) {
      const page = await ctx.store.queryPartition(refIndex(slot), refPartition(inc.model, inc.field, id), after, 25);
      const child = page.items.find(keep);
      if (child) return child;
      if (page.exhausted || page.items.length === 0) break;
      after = page.items[page.items.length - 1]?.id;
    }
  }
  return undefined;
}

/** Model reads for drivers, over the store (live objects only for `referencing`). */
export function storeLookup(store: Store): ObjectLookup {
  return {
    get: (kind, id) => store.get(kind, id),
    async referencing(kind, field, targetId, limit = 100) {
      const model = requireModel(kind);
      const slot = refSlot(model, field);
      if (slot === undefined) throw new Error(`${kind}.${field} is not an indexed reference`);
      const page = await store.queryPartition(refIndex(slot), refPartition(model, field, targetId), undefined, limit);
      return page.items.filter((o) => !o.deleted);
    },
  };
}

/** The client for an object (undefined: no back-end presence) and the context its calls receive. */
export async function driverFor(
  ctx: Pick<SyncContext, 'store' | 'drivers'>,
  obj: StoredObject,
): Promise<{ client?: ExternalClient; dctx: DriverContext }> {
  const refs = outgoingRefs(requireModel(obj.kind), obj);
  const related = refs.length > 0 ? await ctx.store.getMany(refs) : new Map<string, StoredObject>();
  const base: DriverContext = { related, lookup: storeLookup(ctx.store) };
  const routed = await ctx.drivers.clientFor(obj, base);
  return routed ? { client: routed.client, dctx: routed.ctx } : { dctx: base };
}

/** Sync: observe the back-end, then create or update only what differs. */
export async function sync(state: ReconcileState, ctx: SyncContext): Promise<NonNullable<ReconcileState['sync']>> {
  const obj = await leased(ctx, state);
  if (obj === 'lost') return { superseded: true };
  if (!obj) return { settled: true, handle: null };
  const { client, dctx } = await driverFor(ctx, obj);
  if (!client) return { settled: true, handle: null };
  const seen = await client.observe(obj, dctx);
  if (seen.failure) throw new TerminalBackendError(seen.failure);
  if (seen.exists && seen.upToDate)
    return { settled: seen.settled, handle: seen.handle ?? null, feedback: seen.feedback };
  const handle = seen.exists ? await client.update(obj, dctx) : await client.create(obj, dctx);
  return { settled: false, handle };
}

/** Check: wait for the back-end to settle (BUILD -> ACTIVE); its ERROR is a terminal failure. */
export async function check(state: ReconcileState, ctx: SyncContext): Promise<NonNullable<ReconcileState['check']>> {
  const polls = (state.check?.polls ?? 0) + 1;
  if (state.sync?.superseded) return { settled: true, polls, superseded: true };
  if (state.sync?.settled) return { settled: true, polls, feedback: state.sync.feedback };
  const obj = await leased(ctx, state);
  if (obj === 'lost') return { settled: true, polls, superseded: true };
  if (!obj) return { settled: true, polls };
  const { client, dctx } = await driverFor(ctx, obj);
  if (!client) return { settled: true, polls };
  const seen = await client.observe(obj, dctx);
  if (seen.failure) throw new TerminalBackendError(seen.failure);
  if (seen.exists && seen.settled) return { settled: true, polls, feedback: seen.feedback };
  if (polls >= ctx.options.maxCheckPolls) {
    throw new TerminalBackendError(`${label(obj)} did not settle after ${polls} checks`);
  }
  return { settled: false, polls };
}

/** Delete: remove the object from its back-end (absent counts as removed). */
export async function remove(
  state: ReconcileState,
  ctx: SyncContext,
): Promise<{ removed: boolean; superseded?: boolean }> {
  const obj = await leased(ctx, state);
  if (obj === 'lost') return { removed: false, superseded: true };
  if (!obj) return { removed: false };
  const { client, dctx } = await driverFor(ctx, obj);
  if (client && (obj.backend_need_delete || obj.backend_handle)) await client.delete(obj, dctx);
  return { removed: true };
}

/** Record: the outcome of the execution, conditional on the version; then wake the waiters. */
export async function record(state: ReconcileState, ctx: SyncContext): Promise<{ recorded: string }> {
  // Another execution took this version over (it records); so did a newer version.
  if (state.sync?.superseded || state.check?.superseded) return { recorded: 'superseded' };
  const obj = await current(ctx, state);
  if (!obj) return { recorded: 'superseded' };
  const now = ctx.clock().toISOString();
  if (state.error) return recordFailure(state, ctx, obj);
  if (state.load?.action === 'delete') {
    try {
      await ctx.store.purge(obj);
    } catch (err) {
      if (err instanceof ConflictError) return { recorded: 'superseded' };
      throw err;
    }
    // Stamped with the moment of the purge, not of the history write (a parent may purge in between).
    const purgedAt = ctx.clock();
    await history(ctx, obj, state, 'Record', 'deleted', 'removed from the back-end and purged', purgedAt);
    await wake(ctx, obj);
    return { recorded: 'purged' };
  }
  // The Sync step's handle says whether a back-end holds the object (no second read of its relatives).
  const inBackend = (state.sync?.handle ?? null) !== null || obj.backend_need_delete === true;
  const written = await feedback(
    ctx,
    obj,
    {
      ...(state.sync?.feedback ?? {}),
      ...(state.check?.feedback ?? {}),
      enacted_version: obj.version,
      backend_status: 'OK',
      backend_code: 1,
      backend_handle: state.sync?.handle ?? (obj.backend_handle as Handle | null) ?? null,
      backend_need_delete: inBackend,
      backend_register: { failures: 0, last_success: now, next_run: null, version: obj.version },
    },
    { releaseLease: true },
  );
  if (!written) return { recorded: 'superseded' };
  await history(ctx, obj, state, 'Record', 'ok', 'OK');
  await wake(ctx, obj);
  return { recorded: 'enacted' };
}

/** The message of a Catch's error: Lambda's JSON Cause, or the text itself; never a stack. */
export function errorMessage(error: ReconcileState['error']): string {
  const cause = error?.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text cause
  }
  return (cause || error?.Error || 'unknown error').split('\n')[0] as string;
}

async function recordFailure(
  state: ReconcileState,
  ctx: SyncContext,
  obj: StoredObject,
): Promise<{ recorded: string }> {
  const message = errorMessage(state.error);
  const terminal = state.error?.Error === 'Backend.Terminal';
  const reg = register(obj);
  // Backoff grows per version: a user's fix (a new version) starts from the first delay again.
  const failures = (reg.version === obj.version ? (reg.failures ?? 0) : 0) + 1;
  const previous = reg.last_error;
  const nextRun = terminal ? null : later(ctx, backoffMs(failures, ctx.options, ctx.random));
  const written = await feedback(
    ctx,
    obj,
    {
      backend_code: 2,
      backend_status: (previous ? `${previous} // ${message}` : message).slice(0, 1024),
      backend_register: {
        version: obj.version,
        failures,
        last_failure: ctx.clock().toISOString(),
        last_error: message.slice(0, 500),
        next_run: nextRun,
        terminal,
      },
    },
    { releaseLease: true },
  );
  if (!written) return { recorded: 'superseded' };
  const outcome = terminal ? 'error' : 'retrying';
  await history(
    ctx,
    obj,
    state,
    'Record',
    outcome,
    terminal ? message : `${message} (retry ${failures} at ${nextRun})`,
  );
  ctx.log.error('sync failed', {
    kind: obj.kind,
    id: obj.id,
    version: obj.version,
    terminal,
    error: message,
    execution: state.execution,
  });
  // Dependents waiting on this object learn of the failure ("Failed due to error in ...").
  await wake(ctx, obj);
  return { recorded: terminal ? 'failed' : 'retry scheduled' };
}

/** Restart every object waiting on `obj` (event-driven: no polling loop). */
export async function wake(ctx: SyncContext, obj: Pick<StoredObject, 'kind' | 'id'>): Promise<number> {
  const waiters = await ctx.store.takeWaiters(ref(obj));
  if (waiters.length === 0) return 0;
  const found = await ctx.store.getMany(waiters);
  const stamp = ctx.clock().getTime().toString(36);
  let started = 0;
  for (const w of found.values()) {
    await ctx.starter.start(executionName(w, `w${stamp}`), {
      kind: w.kind,
      id: w.id,
      version: w.version,
      reason: 'wake',
    });
    started++;
  }
  return started;
}
