/**
 * Which index entries an object has: derived from its model (references, shards) and its
 * lifecycle state (dirty or not). Pure, shared by the DynamoDB adapter and the tests.
 */
import type { Model } from '../model/define';
import {
  BY_KIND_INDEX,
  DIRTY_INDEX,
  kindShard,
  objectKey,
  refIndex,
  refPartition,
  uniqueGuardKey,
} from '../model/table';
import type { StoredObject } from './store';

/** Partitions of the sparse dirty index, so the sweeper's reads spread. */
export const DIRTY_SHARDS = 4;

/**
 * Whether the synchronizer owes an object work (DESIGN section 5): deleted and not yet purged,
 * dirty for sync (enacted_version behind version, not no_sync/lazy_blocked), or dirty for policy.
 */
export function needsSynchronizer(obj: StoredObject): boolean {
  if (obj.deleted) return true;
  const version = obj.version;
  const syncDirty = ((obj.enacted_version as number | null) ?? 0) < version && !obj.no_sync && !obj.lazy_blocked;
  const policyDirty = ((obj.policed_version as number | null) ?? 0) < version && !obj.no_policy;
  return syncDirty || policyDirty;
}

/** Due time of objects the synchronizer must not retry on its own (terminal failures). */
export const NEVER = '9999-12-31T23:59:59.999Z';

/**
 * When the synchronizer should next look at a dirty object. Retry bookkeeping counts only for the
 * version it was written for: a user write (a new version) is due at once, whatever failed before.
 * A terminal failure of this version is never due (retried on change or an operator's resync).
 */
export function dueAt(obj: StoredObject): string {
  const register = obj.backend_register as { next_run?: string | null; terminal?: boolean; version?: number } | null;
  if (!register || register.version !== obj.version) return obj.updated;
  if (register.terminal) return NEVER;
  return register.next_run ?? obj.updated;
}

/** Every key and index attribute of an object item. */
export function indexAttributes(model: Model, obj: StoredObject): Record<string, string> {
  const attrs: Record<string, string> = {
    ...objectKey(model.kind, obj.id),
    [BY_KIND_INDEX.partitionKey]: kindShard(model, obj.id),
    [BY_KIND_INDEX.sortKey]: obj.id,
  };
  model.refFields.forEach((field, i) => {
    const target = obj[field];
    if (typeof target === 'string') {
      const idx = refIndex(i + 1);
      attrs[idx.partitionKey] = refPartition(model, field, target);
      attrs[idx.sortKey] = obj.id;
    }
  });
  if (needsSynchronizer(obj)) {
    attrs[DIRTY_INDEX.partitionKey] = `DIRTY#${obj.id.charCodeAt(obj.id.length - 1) % DIRTY_SHARDS}`;
    attrs[DIRTY_INDEX.sortKey] = `${dueAt(obj)}#${model.kind}#${obj.id}`;
  }
  return attrs;
}

/** The unique guard keys an object holds (constraints with a null component hold none unless nullsEqual). */
export function uniqueGuards(
  model: Model,
  obj: StoredObject,
): Array<{ key: { PK: string; SK: string }; fields: readonly string[] }> {
  const out: Array<{ key: { PK: string; SK: string }; fields: readonly string[] }> = [];
  for (const u of model.uniques) {
    const values = u.fields.map((f) => obj[f] ?? null);
    if (!u.nullsEqual && values.some((v) => v === null)) continue;
    out.push({ key: uniqueGuardKey(model, u.fields, values), fields: u.fields });
  }
  return out;
}
