/**
 * The Store port: what the core needs from persistence. The DynamoDB adapter
 * (`shared/adapters/dynamodb`) is the production implementation; the core never imports it.
 */
import type { SystemFields } from '../model/define';
import type { IndexDefinition } from '../model/table';

/** An object as stored: system fields plus every field of its kind. */
export type StoredObject = SystemFields & Record<string, unknown>;

/** A reference that must point at a live (existing, not soft-deleted) object when the write commits. */
export interface LiveRef {
  /** The referencing field, reported back when the target vanished meanwhile. */
  readonly field: string;
  readonly kind: string;
  readonly id: string;
}

/** What a write did to one object. */
export type AuditAction = 'create' | 'update' | 'delete' | 'cascade_delete' | 'clear_reference' | 'set_credentials';

/**
 * One audit record: who changed what, when, the versions before and after and the names of the
 * changed fields (never values). Object writes store theirs in the same transaction as the write.
 */
export interface AuditRecord {
  /** ULID: sortable by time. */
  readonly id: string;
  readonly time: string;
  readonly actor_id: string;
  readonly actor_email: string;
  readonly action: AuditAction;
  readonly kind: string;
  readonly object_id: string;
  readonly version_before: number | null;
  readonly version_after: number;
  readonly changed_fields: readonly string[];
  readonly request_id: string | null;
}

/** A conditional replacement of one object: commits only if the stored version is still `before.version`. */
export interface Replacement {
  readonly before: StoredObject;
  readonly after: StoredObject;
}

/** One page read from one index partition. */
export interface PartitionPage {
  readonly items: StoredObject[];
  /** True when the partition holds nothing after the last item returned. */
  readonly exhausted: boolean;
}

/** Persistence of model objects with unique guards, live-reference checks and optimistic concurrency. */
export interface Store {
  /** One object by kind and id (soft-deleted included), or undefined. */
  get(kind: string, id: string): Promise<StoredObject | undefined>;
  /** Several objects in one round trip; missing ones are absent from the result (keyed by id). */
  getMany(keys: ReadonlyArray<{ kind: string; id: string }>): Promise<Map<string, StoredObject>>;
  /**
   * Create an object, its unique guards, the live-reference checks and its audit records
   * atomically. Throws
   * ConflictError on a duplicate unique value, ValidationError when a reference died meanwhile.
   */
  create(obj: StoredObject, liveRefs: readonly LiveRef[], audit?: readonly AuditRecord[]): Promise<void>;
  /**
   * Apply conditional replacements atomically (one object, or a cascade). Each commits only at its
   * expected version; unique guards follow the changed values; the audit records commit with
   * them. ConflictError when any is stale.
   */
  replace(changes: readonly Replacement[], liveRefs: readonly LiveRef[], audit?: readonly AuditRecord[]): Promise<void>;
  /** The id holding a unique value, or undefined. */
  findUnique(kind: string, fields: readonly string[], values: readonly unknown[]): Promise<string | undefined>;
  /** Up to `limit` items of one index partition with sort key greater than `afterId`, ascending. */
  queryPartition(
    index: IndexDefinition,
    partition: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<PartitionPage>;

  /**
   * Write synchronizer feedback (never `version`): commits only while the stored version is still
   * `current.version`, so an old execution can never record over a newer desired state. Returns the
   * merged object; ConflictError when the version moved or the object is gone.
   */
  recordFeedback(
    current: StoredObject,
    patch: Readonly<Record<string, unknown>>,
    options?: { releaseLease?: boolean },
  ): Promise<StoredObject>;
  /**
   * Take the reconcile lease of `current.version` for `owner` until `until`: atomic, so at most one
   * execution works on an object at a time. Succeeds when there is no lease, it expired (`now`),
   * or `owner` holds it already; returns the object, or undefined when the lease is held or the
   * version moved. Feedback fields in `patch` are written in the same conditional write.
   */
  acquireLease(
    current: StoredObject,
    owner: string,
    until: string,
    now: string,
    patch?: Readonly<Record<string, unknown>>,
  ): Promise<StoredObject | undefined>;
  /**
   * Move an object's due time (the dirty index) to `until`, only if nothing wrote the object since
   * it was read as `current`: the sweeper claims what it restarts, so an execution that is slow to
   * start is not restarted again by every sweep. False when the object moved, holds a live lease
   * (at `now`) or is not dirty.
   */
  postponeDue(current: StoredObject, until: string, now?: string): Promise<boolean>;
  /** Remove a deleted object and its unique guards for good (after back-end removal). */
  purge(obj: StoredObject): Promise<void>;
  /** Append a sync-history entry to an object. */
  appendHistory(kind: string, id: string, entry: HistoryEntry): Promise<void>;
  /** Newest-first history of an object. */
  listHistory(
    kind: string,
    id: string,
    limit: number,
    before?: string,
  ): Promise<{ items: HistoryEntry[]; next: string | null }>;
  /** Register `waiter` to be restarted when `dependency` is enacted or purged. */
  addWaiter(dependency: ObjectRef, waiter: ObjectRef): Promise<void>;
  /** Remove and return the waiters registered on `dependency`. */
  takeWaiters(dependency: ObjectRef): Promise<ObjectRef[]>;
  /** A small named value the synchronizer keeps between runs (e.g. where drift observation resumes). */
  readMarker(name: string): Promise<string | undefined>;
  /** Set a marker (last writer wins). */
  writeMarker(name: string, value: string): Promise<void>;
  /** Objects the synchronizer owes work whose due time is at or before `dueBy`, oldest first. */
  listDue(dueBy: string, limit: number): Promise<ObjectRef[]>;
}

/** A kind and id. */
export interface ObjectRef {
  readonly kind: string;
  readonly id: string;
}

/** One sync attempt or finding, as shown by GET .../history. */
export interface HistoryEntry {
  readonly time: string;
  readonly version: number;
  readonly step: string;
  readonly outcome: 'ok' | 'waiting' | 'error' | 'retrying' | 'deleted' | 'drift' | 'policy' | 'resync';
  readonly message: string;
  readonly execution?: string;
}
