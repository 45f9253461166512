/**
 * The audit record as a table item, shared by the object writes (which put it in their own
 * transaction) and the audit store (which reads it back): `AUDIT#<Kind>#<id>` / `<audit ulid>`,
 * also in index ref1 under `AUDIT#actor#<user id>` so the per-user view is one Query.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { refIndex } from '../../model/table';
import type { AuditRecord } from '../../store/store';

/** The index the per-user audit view reads (slot 1 of the reference indexes; audit items use no other slot). */
export const ACTOR_INDEX = refIndex(1);

/** Partition of an object's audit records. */
export function auditPartition(kind: string, id: string): string {
  return `AUDIT#${kind}#${id}`;
}

/** Partition of an actor's audit records in ACTOR_INDEX. */
export function actorPartition(userId: string): string {
  return `AUDIT#actor#${userId}`;
}

/** One audit record as an item. */
export function auditItem(r: AuditRecord): Record<string, AttributeValue> {
  return marshall({
    PK: auditPartition(r.kind, r.object_id),
    SK: r.id,
    [ACTOR_INDEX.partitionKey]: actorPartition(r.actor_id),
    [ACTOR_INDEX.sortKey]: r.id,
    record: JSON.stringify(r),
  });
}
