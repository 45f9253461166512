/**
 * The DynamoDB single-table layout, derived from the registry. The store and the CDK stack both
 * read this one definition, so the table the code expects and the table that is deployed cannot
 * drift apart.
 */
import type { Model } from './define';
import { MODELS } from './registry';

/** One global secondary index: its name, key attributes and projection. */
export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly purpose: string;
}

/** The sort key value of an object item. */
export const META = 'META';

/** Number of reference-index slots: the most references any kind declares. */
export const REF_SLOTS = Math.max(...MODELS.map((m) => m.refFields.length));

/** Index listing every object of a kind (sharded), sorted by id (creation order). */
export const BY_KIND_INDEX: IndexDefinition = {
  name: 'byKind',
  partitionKey: 'GSI1PK',
  sortKey: 'GSI1SK',
  purpose: 'list objects of a kind, paged, in creation order',
};

/** Sparse index of objects that need the synchronizer (sync, policy or deletion). */
export const DIRTY_INDEX: IndexDefinition = {
  name: 'dirty',
  partitionKey: 'DIRTYPK',
  sortKey: 'DIRTYSK',
  purpose: 'objects the synchronizer still owes work, ordered by when it is due',
};

/** Reference index slot n (1-based): children of an object by a reference field. */
export function refIndex(slot: number): IndexDefinition {
  return { name: `ref${slot}`, partitionKey: `R${slot}PK`, sortKey: `R${slot}SK`, purpose: 'objects by reference' };
}

/** The whole table definition. */
export const TABLE_DEFINITION = {
  partitionKey: 'PK',
  sortKey: 'SK',
  stream: 'NEW_AND_OLD_IMAGES',
  indexes: [BY_KIND_INDEX, ...Array.from({ length: REF_SLOTS }, (_, i) => refIndex(i + 1)), DIRTY_INDEX],
} as const;

/** Attribute names that are storage keys, never part of an object. */
export const KEY_ATTRIBUTES: ReadonlySet<string> = new Set(
  TABLE_DEFINITION.indexes.flatMap((i) => [i.partitionKey, i.sortKey]).concat(['PK', 'SK']),
);

/** Primary key of an object item. */
export function objectKey(kind: string, id: string): { PK: string; SK: string } {
  return { PK: `${kind}#${id}`, SK: META };
}

/** By-kind index partition of an object: the kind plus a shard derived from the id. */
export function kindShard(model: Model, id: string): string {
  return `${model.kind}#${shardOf(id, model.shardCount)}`;
}

/** Every by-kind partition of a model. */
export function kindPartitions(model: Model): string[] {
  return Array.from({ length: model.shardCount }, (_, i) => `${model.kind}#${i}`);
}

function shardOf(id: string, shards: number): number {
  if (shards === 1) return 0;
  // The last characters of a ULID are random: hash them for an even spread.
  let h = 0;
  for (let i = id.length - 6; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % shards;
}

/** Reference index slot (1-based) of a field of a model, or undefined when it is not a reference. */
export function refSlot(model: Model, field: string): number | undefined {
  const i = model.refFields.indexOf(field);
  return i < 0 ? undefined : i + 1;
}

/** Partition value of a reference index entry. */
export function refPartition(model: Model, field: string, targetId: string): string {
  return `${model.kind}#${field}#${targetId}`;
}

/**
 * Guard item key of a unique constraint value. The value part is the JSON of the component
 * values, so composite keys cannot collide by concatenation.
 */
export function uniqueGuardKey(
  model: Model,
  fields: readonly string[],
  values: readonly unknown[],
): { PK: string; SK: string } {
  return { PK: `UNIQUE#${model.kind}#${fields.join('+')}#${JSON.stringify(values)}`, SK: 'UNIQUE' };
}
