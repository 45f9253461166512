/**
 * The audit trail: one record per object a write changed (who, what, when, the version before and
 * after, the fields that changed), kept in the table (in the same transaction as the write it
 * describes) and written as one structured log line each
 * (CloudWatch Logs in AWS). Values are never recorded, only field names: a password or a secret
 * cannot reach the trail.
 */
import { ulid } from 'ulid';
import type { Logger } from '../api/errors';
import type { Caller } from '../model/define';
import type { AuditAction, AuditRecord, StoredObject } from '../store/store';

export type { AuditAction, AuditRecord };

/** A page of audit records, newest first. */
export interface AuditPage {
  readonly items: AuditRecord[];
  readonly next_cursor: string | null;
}

/** Persistence of audit records: by object and by actor. */
export interface AuditStore {
  putAudit(records: readonly AuditRecord[]): Promise<void>;
  listAuditOfObject(kind: string, id: string, limit: number, before?: string): Promise<AuditPage>;
  listAuditOfActor(userId: string, limit: number, before?: string): Promise<AuditPage>;
}

/** Fields that never count as a change of their own (bookkeeping every write moves). */
const BOOKKEEPING = new Set(['version', 'updated']);

/** The fields whose values differ between two states of an object. */
export function changedFields(before: StoredObject | undefined, after: StoredObject): string[] {
  const keys = new Set([...Object.keys(before ?? {}), ...Object.keys(after)]);
  return [...keys]
    .filter((k) => !BOOKKEEPING.has(k) && JSON.stringify(before?.[k] ?? null) !== JSON.stringify(after[k] ?? null))
    .sort();
}

/** The audit record of one committed change. */
export function auditRecord(
  caller: Caller,
  action: AuditAction,
  before: StoredObject | undefined,
  after: StoredObject,
  time: string,
): AuditRecord {
  return {
    id: ulid(),
    time,
    actor_id: caller.userId,
    actor_email: caller.email,
    action,
    kind: after.kind,
    object_id: after.id,
    version_before: before ? before.version : null,
    version_after: after.version,
    changed_fields: changedFields(before, after),
    request_id: caller.requestId ?? null,
  };
}

/**
 * The trail's two halves: object writes put their records in the write's own transaction (the
 * store does) and then log them; a write outside the table (controller credentials go to the
 * secrets store) records them here, after it succeeded.
 */
export class AuditTrail {
  constructor(
    private readonly store: AuditStore,
    private readonly log: Logger,
  ) {}

  /** Store records of a write that committed elsewhere, then log them. */
  async record(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      await this.store.putAudit(records);
    } catch (err) {
      // The write itself committed: the log line below still carries the record.
      this.log.error('audit record not stored', {
        request_id: records[0]?.request_id,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    this.logged(records);
  }

  /** One structured log line per record already committed (CloudWatch Logs in AWS). */
  logged(records: readonly AuditRecord[]): void {
    for (const r of records) this.log.info('audit', { audit: r, request_id: r.request_id });
  }
}
