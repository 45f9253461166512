/**
 * The object service: XOS write semantics on top of the Store port. Validates against the
 * registry, resolves references (which must be live), runs the cross-object validators, hashes
 * passwords, and writes with optimistic concurrency. Deletion is a soft delete that cascades where
 * the registry says so, in one transaction when it fits.
 */
import { ulid } from 'ulid';
import { hashPassword } from '../auth/passwords';
import { ConflictError, type FieldErrors, NotFoundError, ValidationError } from '../errors';
import type { Caller, Model, ValidationContext } from '../model/define';
import { type IncomingRef, incomingRefs, outgoingRefs } from '../model/graph';
import { feedbackDefaults, validateWrite, type WriteMode } from '../model/validate';
import type { AuditRecord, LiveRef, Replacement, Store, StoredObject } from '../store/store';
import { parseFilters } from './filters';
import { type ListAccess, type ListPage, listObjects } from './list';

/** Source of time, injectable for tests. */
export type Clock = () => Date;

/** What a committed write did to one object (for the audit trail). */
export interface CommittedChange {
  readonly action: 'create' | 'update' | 'delete' | 'cascade_delete' | 'clear_reference';
  readonly before?: StoredObject;
  readonly after: StoredObject;
}

/** A write as it is about to commit: the caller's input, the states, the loaded references. */
export interface PendingChange {
  readonly action: 'create' | 'update';
  /** The validated fields the caller sent (replace mode: with defaults for absent fields). */
  readonly input: Readonly<Record<string, unknown>>;
  readonly before?: StoredObject;
  readonly after: StoredObject;
  /** Every reference target loaded for the write, by id. */
  readonly refs: ReadonlyMap<string, StoredObject>;
  /** References this write sets (all of them on create). */
  readonly setRefs: readonly LiveRef[];
}

/**
 * Hooks of one API write: access checks before it commits, audit records committed with it, and
 * what follows the commit. The synchronizer and bootstrap write without hooks (full rights).
 */
export interface WriteHooks {
  /** May the caller update or delete this existing object? Throws NotFound/Forbidden. */
  existing?(action: 'update' | 'delete', current: StoredObject): Promise<void>;
  /** May this change commit? Throws to refuse (nothing is written). */
  change?(pending: PendingChange): Promise<void>;
  /** The audit records of changes about to commit: the store writes them in the same transaction. */
  audit?(changes: readonly CommittedChange[]): readonly AuditRecord[];
  /** After the commit, with the audit records it wrote. */
  committed?(records: readonly AuditRecord[]): void;
}

/**
 * Objects a delete may change in one transaction (each with its audit record: two items of the
 * 100 a DynamoDB transaction holds); larger cascades run in ordered chunks.
 */
const CASCADE_TRANSACTION_LIMIT = 50;

/** CRUD with XOS semantics. */
export class ObjectService {
  constructor(
    readonly store: Store,
    private readonly clock: Clock = () => new Date(),
  ) {}

  /** One object, soft-deleted included; 404 when absent. */
  async get(model: Model, id: string): Promise<StoredObject> {
    const obj = await this.store.get(model.kind, id);
    if (!obj || obj.kind !== model.kind) throw new NotFoundError(`${model.kind} ${id} not found`);
    return obj;
  }

  /** A filtered page of objects; with `access`, only those the caller may read. */
  async list(model: Model, params: Record<string, string>, access?: ListAccess): Promise<ListPage> {
    const filters = parseFilters(model, params);
    return listObjects(this.store, model, filters, { limit: params.limit, cursor: params.cursor }, access);
  }

  /** Create an object from a request body. */
  async create(model: Model, body: unknown, caller: Caller, hooks: WriteHooks = {}): Promise<StoredObject> {
    const data = validateWrite(model, 'create', body);
    const now = this.clock().toISOString();
    const obj: StoredObject = {
      ...feedbackDefaults(model),
      ...data,
      id: ulid(),
      kind: model.kind,
      created: now,
      updated: now,
      version: 1,
      deleted: false,
    };
    // Derivations fill only what is missing, so they run twice: first without the references
    // (the caller-derived ones, e.g. creator_id, join the one batch read), then with them loaded
    // (e.g. Instance.name from its slice).
    const noRefs: ValidationContext = { caller, ref: () => undefined };
    const pending = model.deriveOnCreate ? { ...obj } : obj;
    model.deriveOnCreate?.(pending, noRefs);
    for (const [k, v] of Object.entries(pending)) if (v !== null && v !== undefined) obj[k] = v;
    const refs = liveRefsOf(model, obj);
    const ctx = await this.validationContext(obj, refs, caller);
    model.deriveOnCreate?.(obj, ctx);
    // A derivation that needed a loaded reference may add another reference: those must be live too.
    const derivedRefs = liveRefsOf(model, obj).filter((r) => !refs.some((x) => x.field === r.field && x.id === r.id));
    if (derivedRefs.length > 0) await this.loadRefs(obj, derivedRefs, ctx);
    this.runValidators(model, obj, ctx);
    await hooks.change?.({
      action: 'create',
      input: data,
      after: obj,
      refs: ctx.loaded,
      setRefs: [...refs, ...derivedRefs],
    });
    await this.hashSecrets(model, obj);
    const audit = hooks.audit?.([{ action: 'create', after: obj }]) ?? [];
    await this.store.create(obj, [...refs, ...derivedRefs], audit);
    hooks.committed?.(audit);
    return obj;
  }

  /**
   * Replace (PUT) or patch (PATCH) an object at an expected version. 409 when the version moved or
   * the object is being deleted.
   */
  async update(
    model: Model,
    id: string,
    mode: Exclude<WriteMode, 'create'>,
    body: unknown,
    expectedVersion: number | undefined,
    caller: Caller,
    hooks: WriteHooks = {},
  ): Promise<StoredObject> {
    const current = await this.get(model, id);
    await hooks.existing?.('update', current);
    const version = expectedVersion ?? versionFromBody(body);
    if (current.deleted) throw new ConflictError(`${model.kind} ${id} is being deleted and can no longer change`);
    const data = validateWrite(model, mode, body, current);
    if (version !== current.version) {
      throw new ConflictError(`${model.kind} ${id} is at version ${current.version}, not ${version}`, {
        version: `stale: current version is ${current.version}`,
      });
    }
    const next: StoredObject = {
      ...current,
      ...data,
      version: current.version + 1,
      updated: this.clock().toISOString(),
    };
    const refs = liveRefsOf(model, next);
    // Only references set by this write must be live; one kept from before may point at an
    // object being deleted (a permitted slice of a network, say): its deletion is handled there.
    const changed = refs.filter((r) => !refIsUnchanged(current, r));
    const ctx = await this.validationContext(next, refs, caller, new Set(changed));
    // Reference lists forget members deleted since (they are not indexed, so the delete could not).
    for (const [name, field] of Object.entries(model.allFields)) {
      if (field.type !== 'refs' || !Array.isArray(next[name])) continue;
      next[name] = (next[name] as string[]).filter((id) => {
        const target = ctx.loaded.get(id);
        return target !== undefined && !target.deleted;
      });
    }
    this.runValidators(model, next, ctx);
    await hooks.change?.({
      action: 'update',
      input: data,
      before: current,
      after: next,
      refs: ctx.loaded,
      setRefs: changed,
    });
    await this.hashSecrets(model, next, current);
    const audit = hooks.audit?.([{ action: 'update', before: current, after: next }]) ?? [];
    await this.store.replace([{ before: current, after: next }], changed, audit);
    hooks.committed?.(audit);
    return next;
  }

  /**
   * Soft-delete an object and, where the registry says cascade, everything that depends on it;
   * references declared set_null are cleared; a protect reference or a write-protected object in
   * the cascade refuses the delete with 409. Idempotent: deleting a deleted object returns it.
   */
  async delete(model: Model, id: string, hooks: WriteHooks = {}): Promise<StoredObject> {
    const root = await this.get(model, id);
    await hooks.existing?.('delete', root);
    if (root.deleted) return root;
    if (root.write_protect)
      throw new ConflictError(`${model.kind} ${id} is write-protected; clear write_protect first`);
    const now = this.clock().toISOString();
    const changes = new Map<string, Replacement>();
    const order: string[] = [];
    const bump = (obj: StoredObject, patch: Record<string, unknown>) => {
      const prior = changes.get(obj.id);
      const before = prior?.before ?? obj;
      const after = {
        ...(prior?.after ?? { ...obj, version: obj.version + 1, updated: now }),
        ...patch,
      } as StoredObject;
      if (!prior) order.push(obj.id);
      changes.set(obj.id, { before, after });
    };
    let frontier: StoredObject[] = [root];
    bump(root, { deleted: true });
    while (frontier.length > 0) {
      const next: StoredObject[] = [];
      const found = await Promise.all(frontier.map((obj) => this.dependents(obj)));
      for (const deps of found) {
        for (const { child, incoming } of deps) {
          if (changes.get(child.id)?.after.deleted) continue;
          if (incoming.onDelete === 'protect') {
            throw new ConflictError(
              `cannot delete: ${incoming.model.kind} ${child.id} still references it through ${incoming.field}; delete or repoint it first`,
            );
          }
          if (incoming.onDelete === 'set_null') {
            bump(child, { [incoming.field]: null });
            continue;
          }
          if (child.write_protect) {
            throw new ConflictError(`cannot delete: dependent ${child.kind} ${child.id} is write-protected`);
          }
          bump(child, { deleted: true });
          next.push(child);
        }
      }
      frontier = next;
    }
    // Dependents first, the root last: a cascade too large for one transaction that fails midway
    // leaves the root intact, and repeating the DELETE completes it.
    const ordered = order.reverse().map((k) => changes.get(k) as Replacement);
    for (let i = 0; i < ordered.length; i += CASCADE_TRANSACTION_LIMIT) {
      const chunk = ordered.slice(i, i + CASCADE_TRANSACTION_LIMIT);
      const audit =
        hooks.audit?.(
          chunk.map(({ before, after }) => ({
            action: after.id === root.id ? 'delete' : after.deleted ? 'cascade_delete' : 'clear_reference',
            before,
            after,
          })),
        ) ?? [];
      await this.store.replace(chunk, [], audit);
      hooks.committed?.(audit);
    }
    // A child created between our read of the dependents and the commit passed its live-parent
    // check and was missed; none can commit after it (the parent is deleted now). Sweep them up.
    await this.cascadeLateChildren(
      ordered.filter((c) => c.after.deleted).map((c) => c.after),
      hooks,
    );
    return changes.get(root.id)?.after as StoredObject;
  }

  /** Cascade (or clear) live objects still referencing the given deleted objects. */
  private async cascadeLateChildren(deleted: readonly StoredObject[], hooks: WriteHooks): Promise<void> {
    const found = await Promise.all(deleted.map((obj) => this.dependents(obj)));
    for (const { child, incoming } of found.flat()) {
      const model = incoming.model;
      try {
        if (incoming.onDelete === 'cascade')
          await this.delete(model, child.id, { audit: hooks.audit, committed: hooks.committed });
        else if (incoming.onDelete === 'set_null') {
          const fresh = await this.get(model, child.id);
          if (fresh[incoming.field] !== null && !fresh.deleted) {
            const now = this.clock().toISOString();
            const after = {
              ...fresh,
              [incoming.field]: null,
              version: fresh.version + 1,
              updated: now,
            } as StoredObject;
            const audit = hooks.audit?.([{ action: 'clear_reference', before: fresh, after }]) ?? [];
            await this.store.replace([{ before: fresh, after }], [], audit);
            hooks.committed?.(audit);
          }
        }
        // protect: the delete was allowed before this child existed; the synchronizer reports it.
      } catch (err) {
        if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
      }
    }
  }

  /** Newest-first sync history of an object (kept for a while after it is purged). */
  async history(model: Model, id: string, limit: number, before?: string) {
    return this.store.listHistory(model.kind, id, limit, before);
  }

  /**
   * An operator's resync (XOS SetDirtyModels, per object): forget the enacted version and any
   * terminal failure, so the synchronizer runs again now, without a new desired-state version.
   */
  async requestResync(model: Model, id: string, caller: Caller): Promise<StoredObject> {
    const obj = await this.get(model, id);
    const now = this.clock().toISOString();
    const register = (obj.backend_register as Record<string, unknown> | null) ?? {};
    const updated = await this.store.recordFeedback(obj, {
      enacted_version: null,
      backend_code: 0,
      backend_status: 'resync requested',
      backend_register: { ...register, version: obj.version, terminal: false, failures: 0, next_run: now },
    });
    await this.store.appendHistory(model.kind, id, {
      time: now,
      version: obj.version,
      step: 'API',
      outcome: 'resync',
      message: `resync requested by ${caller.email}`,
    });
    return updated;
  }

  /** Live objects referencing `obj`, with the reference they use. */
  private async dependents(obj: StoredObject): Promise<Array<{ child: StoredObject; incoming: IncomingRef }>> {
    const incoming = incomingRefs(obj.kind);
    const pages = await Promise.all(
      incoming.map(async (inc) => {
        const children = await listAll(this.store, inc.model, { [inc.field]: obj.id });
        return children.map((child) => ({ child, incoming: inc }));
      }),
    );
    return pages.flat();
  }

  private async validationContext(
    obj: StoredObject,
    refs: readonly LiveRef[],
    caller: Caller,
    mustBeLive?: ReadonlySet<LiveRef>,
  ): Promise<ValidationContext & { loaded: Map<string, StoredObject> }> {
    const loaded = new Map<string, StoredObject>();
    const ctx = {
      caller,
      loaded,
      ref: (field: string) => {
        const id = obj[field];
        return typeof id === 'string' ? loaded.get(id) : undefined;
      },
    };
    await this.loadRefs(obj, refs, ctx, mustBeLive);
    return ctx;
  }

  private async loadRefs(
    obj: StoredObject,
    refs: readonly LiveRef[],
    ctx: { loaded: Map<string, StoredObject> },
    mustBeLive?: ReadonlySet<LiveRef>,
  ) {
    if (refs.length === 0) return;
    const found = await this.store.getMany(refs.map((r) => ({ kind: r.kind, id: r.id })));
    const errors: FieldErrors = {};
    for (const r of refs) {
      const target = found.get(r.id);
      const strict = !mustBeLive || mustBeLive.has(r);
      if (!target || target.kind !== r.kind) {
        if (strict) errors[r.field] = `no ${r.kind} with id ${r.id}`;
      } else if (target.deleted && target.id !== obj.id && strict) {
        errors[r.field] = `${r.kind} ${r.id} is deleted`;
      } else ctx.loaded.set(r.id, target);
    }
    if (Object.keys(errors).length > 0) throw new ValidationError('references must point at live objects', errors);
  }

  private runValidators(model: Model, obj: StoredObject, ctx: ValidationContext): void {
    const errors: FieldErrors = {};
    for (const v of model.validators ?? []) Object.assign(errors, v.check(obj, ctx));
    if (Object.keys(errors).length > 0) throw new ValidationError(`invalid ${model.kind}`, errors);
  }

  private async hashSecrets(model: Model, obj: StoredObject, current?: StoredObject): Promise<void> {
    for (const [name, field] of Object.entries(model.allFields)) {
      if (!field.writeOnly) continue;
      const given = obj[name];
      if (typeof given === 'string' && given !== current?.[name]) obj[name] = await hashPassword(given);
      else if (given === undefined || given === null) {
        if (current?.[name] !== undefined) obj[name] = current[name];
        else delete obj[name];
      }
    }
  }
}

/** Every live object of `model` matching simple exact filters, all pages. */
export async function listAll(store: Store, model: Model, params: Record<string, string>): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  let cursor: string | undefined;
  const filters = parseFilters(model, params);
  do {
    const page = await listObjects(store, model, filters, { limit: '1000', cursor });
    out.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return out;
}

/** The references of an object that must be live: single, generic and list references. */
export const liveRefsOf = outgoingRefs;

function refIsUnchanged(current: StoredObject, ref: LiveRef): boolean {
  const value = current[ref.field];
  return value === ref.id || (Array.isArray(value) && value.includes(ref.id));
}

function versionFromBody(body: unknown): number {
  const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).version : undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1) return v;
  throw new ValidationError('the current version is required', {
    version: 'required: send the version you read (in the body or as If-Match)',
  });
}
