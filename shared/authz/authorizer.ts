/**
 * Evaluates the registry's access policies (DESIGN section 4: read/write policy per kind) for one
 * caller within one request: whether a verb is allowed on an object, and which index partitions
 * hold everything the caller may read (so lists filter in the query, not after loading).
 *
 * The caller's privileges are read once per request (one Query of the Privilege reference index
 * on accessor_id) and only when a policy needs them; cloud administrators never need them.
 */
import type { Caller, Grant, Model, RoleName, Verb } from '../model/define';
import type { Field } from '../model/fields';
import { requireModel } from '../model/registry';
import { refIndex, refPartition } from '../model/table';
import type { Store, StoredObject } from '../store/store';

/** Most ids a scope may expand to before a list falls back to checking items one by one. */
export const MAX_SCOPE_IDS = 2000;
/** Most index partitions a scoped list reads; wider scopes fall back to per-item checks. */
export const MAX_SCOPE_PARTITIONS = 200;
/** Deepest chain of `via` grants followed (Port -> Instance -> Slice is 2). */
const MAX_VIA_DEPTH = 4;

/** One source of readable objects: those whose `field` is one of `ids` (`id`: the objects themselves). */
export interface ScopeSource {
  readonly field: string;
  readonly ids: readonly string[];
}

/** What a caller may read of a kind: everything, or the union of some sources. */
export type ReadScope = { readonly all: true } | { readonly all: false; readonly sources: readonly ScopeSource[] };

/** Raised when a scope would expand beyond the bounds above. */
export class ScopeTooWide extends Error {}

/** A live privilege of the caller. */
export interface HeldPrivilege {
  readonly kind: string;
  readonly id: string;
  readonly role: RoleName;
}

/** The roles of a privilege's permission (`role:admin` -> admin). */
export function roleOfPermission(permission: unknown): RoleName | undefined {
  const m = /^role:(admin|pi|tech|user|access)$/.exec(String(permission ?? ''));
  return m ? (m[1] as RoleName) : undefined;
}

/** Whether a stored privilege is in force at `now`: not deleted, granted, not expired. */
export function privilegeInForce(p: StoredObject, now: Date): boolean {
  if (p.deleted) return false;
  if (typeof p.granted === 'string' && Date.parse(p.granted) > now.getTime()) return false;
  return !(typeof p.expires === 'string' && Date.parse(p.expires) <= now.getTime());
}

/** The kind a grant's field points at on `obj` (generic references: from their type field). */
function targetKind(model: Model, field: string, obj?: StoredObject): string | undefined {
  if (field === 'id') return model.kind;
  const f = model.fields[field] as Field | undefined;
  if (f?.type === 'ref') return f.target;
  if (f?.type === 'generic_ref') return obj ? String(obj[f.typeField as string]) : undefined;
  return undefined;
}

/** Per-request policy evaluation for one caller. */
export class Authorizer {
  private held?: Promise<readonly HeldPrivilege[]>;
  private readonly loaded = new Map<string, Promise<StoredObject | undefined>>();

  constructor(
    readonly caller: Caller,
    private readonly store: Store,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The caller's privileges in force (one indexed Query, memoized for the request). */
  privileges(): Promise<readonly HeldPrivilege[]> {
    this.held ??= this.loadPrivileges();
    return this.held;
  }

  private async loadPrivileges(): Promise<HeldPrivilege[]> {
    const index = requireModel('Privilege').refFields.indexOf('accessor_id') + 1;
    const out: HeldPrivilege[] = [];
    const now = this.now();
    let after: string | undefined;
    for (;;) {
      const page = await this.store.queryPartition(
        refIndex(index),
        refPartition(requireModel('Privilege'), 'accessor_id', this.caller.userId),
        after,
        1000,
      );
      for (const p of page.items) {
        const role = roleOfPermission(p.permission);
        if (role && privilegeInForce(p, now) && p.accessor_id === this.caller.userId) {
          out.push({ kind: String(p.object_type), id: String(p.object_id), role });
        }
      }
      if (page.exhausted || page.items.length === 0) return out;
      after = page.items[page.items.length - 1]?.id;
    }
  }

  /** Whether the caller holds one of `roles` on the object `kind`/`id`. */
  async holds(kind: string, id: string, roles: readonly RoleName[]): Promise<boolean> {
    return (await this.privileges()).some((p) => p.kind === kind && p.id === id && roles.includes(p.role));
  }

  /** Whether the caller may `verb` the object `obj` of `model` (cloud administrators may do anything). */
  async can(verb: Verb, model: Model, obj: StoredObject, depth = 0): Promise<boolean> {
    if (this.caller.isAdmin) return true;
    for (const grant of model.policy[verb]) {
      if (await this.satisfies(grant, verb, model, obj, depth)) return true;
    }
    return false;
  }

  private async satisfies(grant: Grant, verb: Verb, model: Model, obj: StoredObject, depth: number): Promise<boolean> {
    if ('anyone' in grant) return true;
    if ('self' in grant) return obj[grant.self] === this.caller.userId;
    if ('role' in grant) {
      const id = obj[grant.on];
      const kind = targetKind(model, grant.on, obj);
      return typeof id === 'string' && kind !== undefined && this.holds(kind, id, grant.role);
    }
    const id = obj[grant.via];
    if (typeof id !== 'string' || depth >= MAX_VIA_DEPTH) return false;
    const parentModel = requireModel(targetKind(model, grant.via) as string);
    const parent = await this.load(parentModel.kind, id);
    if (!parent) return false;
    return this.can(grant.as ?? (verb === 'read' ? 'read' : 'update'), parentModel, parent, depth + 1);
  }

  /** An object read once per request (policies walking up the same parents share the reads). */
  load(kind: string, id: string): Promise<StoredObject | undefined> {
    const key = `${kind}#${id}`;
    let found = this.loaded.get(key);
    if (!found) {
      found = this.store.get(kind, id).then((o) => (o && o.kind === kind ? o : undefined));
      this.loaded.set(key, found);
    }
    return found;
  }

  /**
   * Where everything the caller may read of `model` lives: `all`, or sources (the caller's own
   * objects by a User reference, the objects it holds a role on or under, and the children of
   * readable parents, expanded through the reference indexes). ScopeTooWide when it would not stay small.
   */
  async readScope(model: Model, depth = 0): Promise<ReadScope> {
    if (this.caller.isAdmin) return { all: true };
    const sources: ScopeSource[] = [];
    for (const grant of model.policy.read) {
      if ('anyone' in grant) return { all: true };
      if ('self' in grant) sources.push({ field: grant.self, ids: [this.caller.userId] });
      else if ('role' in grant) {
        const field = model.fields[grant.on];
        const kinds =
          grant.on === 'id'
            ? [model.kind]
            : field?.type === 'generic_ref'
              ? (field.targets ?? [])
              : [targetKind(model, grant.on) as string];
        const ids = (await this.privileges())
          .filter((p) => kinds.includes(p.kind) && grant.role.includes(p.role))
          .map((p) => p.id);
        sources.push({ field: grant.on, ids: [...new Set(ids)] });
      } else {
        if (depth >= MAX_VIA_DEPTH) throw new ScopeTooWide(`${model.kind}: policy chain too deep`);
        const parentModel = requireModel(targetKind(model, grant.via) as string);
        const parentScope = await this.readScope(parentModel, depth + 1);
        if (parentScope.all) return { all: true };
        sources.push({ field: grant.via, ids: await this.expand(parentModel, parentScope) });
      }
    }
    return { all: false, sources: sources.filter((s) => s.ids.length > 0) };
  }

  /** The ids of every object in a scope (bounded by MAX_SCOPE_IDS). */
  private async expand(model: Model, scope: ReadScope & { all: false }): Promise<string[]> {
    const ids = new Set<string>();
    const slotOf = (field: string) => model.refFields.indexOf(field) + 1;
    for (const source of scope.sources) {
      if (source.field === 'id') {
        for (const id of source.ids) ids.add(id);
        continue;
      }
      if (source.ids.length > MAX_SCOPE_PARTITIONS) throw new ScopeTooWide(`${model.kind}: scope too wide`);
      const slot = slotOf(source.field);
      await Promise.all(
        source.ids.map(async (target) => {
          let after: string | undefined;
          for (;;) {
            const page = await this.store.queryPartition(
              refIndex(slot),
              refPartition(model, source.field, target),
              after,
              1000,
            );
            for (const o of page.items) ids.add(o.id);
            if (ids.size > MAX_SCOPE_IDS) throw new ScopeTooWide(`${model.kind}: scope too wide`);
            if (page.exhausted || page.items.length === 0) return;
            after = page.items[page.items.length - 1]?.id;
          }
        }),
      );
    }
    return [...ids];
  }
}
