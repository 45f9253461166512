/**
 * `defineModel`: the one place a model kind is declared. It adds the XOS lifecycle fields
 * (DESIGN section 5) and derives what every consumer needs: wire fields, unique constraints,
 * reference index slots and the natural (TOSCA) key.
 */
import type { FieldErrors } from '../errors';
import { bool, type Field, type FieldMap, type FieldValues, int, json, str, text } from './fields';

/** The caller of an API request, as established by authentication. */
export interface Caller {
  readonly userId: string;
  readonly email: string;
  readonly isAdmin: boolean;
  /** The request this caller acts in, recorded in the audit trail. */
  readonly requestId?: string;
}

/** Roles a privilege grants (XOS Privilege.permission is `role:<name>`). */
export const ROLE_NAMES = ['admin', 'pi', 'tech', 'user', 'access'] as const;
/** One role name. */
export type RoleName = (typeof ROLE_NAMES)[number];

/** The roles that exist on each kind a privilege may be on (site admin/pi/tech/user, slice admin/access, ...). */
export const ROLES_BY_KIND: Readonly<Record<string, readonly RoleName[]>> = {
  Site: ['admin', 'pi', 'tech', 'user'],
  Slice: ['admin', 'access'],
  Service: ['admin'],
  Deployment: ['admin'],
};

/**
 * One way to be allowed a verb on an object (policies are a list of grants, any of which suffices;
 * cloud administrators are always allowed). Declarative, so the same grant is both checked on one
 * object and turned into index queries for lists.
 * - `anyone`: every authenticated user.
 * - `self`: the field (a User reference, or `id` on User) is the caller.
 * - `role`/`on`: the caller holds a live privilege with one of the roles on the object the field
 *   references (`id`: this object itself).
 * - `via`: the caller may `as` (default: read for read, update for writes) the object the field references.
 */
export type Grant =
  | { readonly anyone: true }
  | { readonly self: string }
  | { readonly role: readonly RoleName[]; readonly on: string }
  | { readonly via: string; readonly as?: 'read' | 'update' };

/** The verbs a policy rules on. */
export type Verb = 'read' | 'create' | 'update' | 'delete';

/** What a model file declares about access; `write` is the default of create, update and delete. */
export interface AccessSpec {
  readonly read: readonly Grant[];
  readonly write: readonly Grant[];
  readonly create?: readonly Grant[];
  readonly update?: readonly Grant[];
  readonly delete?: readonly Grant[];
  /** Fields only cloud administrators may set or change (e.g. User.is_admin, Slice.creator_id). */
  readonly adminFields?: readonly string[];
}

/** The resolved access policy of a kind. */
export interface AccessPolicy extends Readonly<Record<Verb, readonly Grant[]>> {
  readonly adminFields: readonly string[];
}

/** Nobody but cloud administrators (an empty grant list). */
export const ADMINS_ONLY: readonly Grant[] = [];
/** Every authenticated user. */
export const ANYONE: readonly Grant[] = [{ anyone: true }];

/** Read-only system fields present on every object. */
export interface SystemFields {
  id: string;
  kind: string;
  created: string;
  updated: string;
  version: number;
  deleted: boolean;
}

/** System field names: set by the store, read-only to everyone. */
export const SYSTEM_FIELD_NAMES = ['id', 'kind', 'created', 'updated', 'version', 'deleted'] as const;

/** Lifecycle flags a user may set (XOS bookkeeping options). */
export const LIFECYCLE_FLAGS = {
  lazy_blocked: bool('Not synchronized until something needs it (lazy instantiation).', false),
  no_sync: bool('Opt this object out of synchronization.', false),
  no_policy: bool('Opt this object out of model policies.', false),
  write_protect: bool('Refuse deletion of this object (409) until cleared.', false),
} satisfies FieldMap;

/** Lifecycle feedback fields: written only by the synchronizer, never bump `version`. */
export const LIFECYCLE_FEEDBACK = {
  enacted_version: int('The version last synchronized successfully.', { feedback: true, min: 0 }),
  policed_version: int('The version whose model policies last ran.', { feedback: true, min: 0 }),
  backend_status: text('Human-readable sync status: "OK", "waiting for ...", or the last two errors.', {
    feedback: true,
    default: 'Provisioning in progress',
  }),
  backend_code: int('0 pending/deferred, 1 ok, 2 error.', { feedback: true, default: 0, min: 0, max: 2 }),
  backend_handle: json('The back-end identifiers of this object.', { feedback: true }),
  backend_register: json('Retry bookkeeping: failures, next_run, last_error.', { feedback: true, default: {} }),
  backend_need_delete: bool('The back-end may hold state: removal must run before purge.', false, { feedback: true }),
  policy_status: str('Outcome of the last model-policy run.', {
    feedback: true,
    max: 1024,
    default: 'Policy in process',
  }),
  policy_code: int('0 pending, 1 done, 2 error.', { feedback: true, default: 0, min: 0, max: 2 }),
} satisfies FieldMap;

type LifecycleFields = typeof LIFECYCLE_FLAGS & typeof LIFECYCLE_FEEDBACK;

/** The context a cross-object validator runs in: the caller and the loaded reference targets. */
export interface ValidationContext {
  readonly caller: Caller;
  /** The live object a reference field points at, or undefined when the field is null. */
  ref(field: string): Record<string, unknown> | undefined;
}

/** An XOS validator: returns the offending fields, or nothing when the object is valid. */
export interface CrossValidator {
  readonly name: string;
  check(obj: Record<string, unknown>, ctx: ValidationContext): FieldErrors | undefined;
}

/** A unique constraint over one or more fields (XOS unique / unique_with). */
export interface UniqueConstraint {
  readonly fields: readonly string[];
  /** When false (SQL semantics) a null component disables the constraint for that object. */
  readonly nullsEqual: boolean;
}

/** What a model file declares. */
export interface ModelSpec<F extends FieldMap> {
  /** PascalCase kind name, as in XOS. */
  readonly kind: string;
  /** Lowercase XOS plural used in URLs. */
  readonly plural: string;
  readonly description: string;
  readonly fields: F;
  /** Composite unique constraints (XOS unique_with). Single-field ones use `unique: true`. */
  readonly uniqueTogether?: ReadonlyArray<{
    readonly fields: readonly (keyof F & string)[];
    readonly nullsEqual?: boolean;
  }>;
  /** Natural key used by TOSCA to find an existing object; defaults to `name`. */
  readonly toscaKey?: readonly (keyof F & string)[];
  readonly validators?: readonly CrossValidator[];
  /**
   * Computed defaults applied on create, after references are loaded (e.g. Instance.name from
   * its slice, Slice.creator from the caller). Mutates `obj`.
   */
  readonly deriveOnCreate?: (obj: Record<string, unknown>, ctx: ValidationContext) => void;
  /** Partitions of the by-kind index, so a large kind does not hot-spot one partition. */
  readonly shards?: number;
  /** Who may read, create, update and delete objects of this kind (beyond cloud administrators). */
  readonly access: AccessSpec;
  /**
   * For a placement record (ControllerSlice, ControllerNetwork, ...): the reference to the object
   * it places on its controller. Removing a placement waits until that object's deleted
   * dependents are purged (a project goes after its servers, a network after its ports).
   */
  readonly places?: keyof F & string;
}

/** A registered model: the spec plus everything derived from it once. */
export interface Model<F extends FieldMap = FieldMap> extends ModelSpec<F> {
  /** Own fields plus lifecycle flags and feedback, keyed by wire name. */
  readonly allFields: Readonly<Record<string, Field>>;
  readonly uniques: readonly UniqueConstraint[];
  readonly natural: readonly string[];
  readonly shardCount: number;
  /** Reference fields (ref and generic_ref) in declaration order; slot i+1 indexes refFields[i]. */
  readonly refFields: readonly string[];
  /** Names of feedback fields. */
  readonly feedbackFields: ReadonlySet<string>;
  /** The access policy, every verb resolved. */
  readonly policy: AccessPolicy;
}

/** The JSON object of a model as stored and returned. */
export type ModelObject<M> = M extends Model<infer F> ? SystemFields & FieldValues<F & LifecycleFields> : never;

/** Declare a model kind. See ModelSpec. */
export function defineModel<const F extends FieldMap>(spec: ModelSpec<F>): Model<F> {
  for (const name of Object.keys(spec.fields)) {
    if (
      name in LIFECYCLE_FLAGS ||
      name in LIFECYCLE_FEEDBACK ||
      (SYSTEM_FIELD_NAMES as readonly string[]).includes(name)
    ) {
      throw new Error(`${spec.kind}.${name}: collides with a lifecycle field`);
    }
    if (!/^[a-z][a-zA-Z0-9_]*$/.test(name)) throw new Error(`${spec.kind}.${name}: not a valid wire name`);
  }
  // Null prototype: a body key such as "__proto__" or "constructor" must never resolve to a field.
  const allFields: Record<string, Field> = Object.assign(
    Object.create(null),
    spec.fields,
    LIFECYCLE_FLAGS,
    LIFECYCLE_FEEDBACK,
  );
  const uniques: UniqueConstraint[] = [
    ...Object.entries(spec.fields)
      .filter(([, f]) => f.unique)
      .map(([name]) => ({ fields: [name], nullsEqual: false })),
    ...(spec.uniqueTogether ?? []).map((u) => ({ fields: [...u.fields], nullsEqual: u.nullsEqual === true })),
  ];
  const natural = spec.toscaKey ? [...spec.toscaKey] : 'name' in spec.fields ? ['name'] : [];
  const refFields = Object.entries(spec.fields)
    .filter(([, f]) => f.type === 'ref' || f.type === 'generic_ref')
    .map(([name]) => name);
  const feedbackFields = new Set(
    Object.entries(allFields)
      .filter(([, f]) => f.feedback)
      .map(([name]) => name),
  );
  const a = spec.access;
  const policy: AccessPolicy = Object.freeze({
    read: a.read,
    create: a.create ?? a.write,
    update: a.update ?? a.write,
    delete: a.delete ?? a.write,
    adminFields: a.adminFields ?? [],
  });
  return Object.freeze({
    ...spec,
    policy,
    allFields,
    uniques,
    natural,
    shardCount: spec.shards ?? 1,
    refFields,
    feedbackFields,
  });
}
