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
   * Create an object, its unique guards and the live-reference checks atomically. Throws
   * ConflictError on a duplicate unique value, ValidationError when a reference died meanwhile.
   */
  create(obj: StoredObject, liveRefs: readonly LiveRef[]): Promise<void>;
  /**
   * Apply conditional replacements atomically (one object, or a cascade). Each commits only at its
   * expected version; unique guards follow the changed values. ConflictError when any is stale.
   */
  replace(changes: readonly Replacement[], liveRefs: readonly LiveRef[]): Promise<void>;
  /** The id holding a unique value, or undefined. */
  findUnique(kind: string, fields: readonly string[], values: readonly unknown[]): Promise<string | undefined>;
  /** Up to `limit` items of one index partition with sort key greater than `afterId`, ascending. */
  queryPartition(
    index: IndexDefinition,
    partition: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<PartitionPage>;
}
