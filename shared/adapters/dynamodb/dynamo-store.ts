/**
 * The Store port on DynamoDB (single table, AWS SDK v3). Every write is one conditional PutItem or
 * one TransactWriteItems holding the object(s), their unique guard items and condition checks that
 * the referenced objects are still alive, so concurrency can never let a duplicate or a dangling
 * reference in.
 */
import { randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  type TransactWriteItem,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ConflictError, ValidationError } from '../../errors';
import { requireModel } from '../../model/registry';
import { DIRTY_INDEX, type IndexDefinition, KEY_ATTRIBUTES, objectKey, uniqueGuardKey } from '../../model/table';
import { DIRTY_SHARDS, indexAttributes, needsSynchronizer, uniqueGuards } from '../../store/keys';
import type {
  AuditRecord,
  HistoryEntry,
  LiveRef,
  ObjectRef,
  PartitionPage,
  Replacement,
  Store,
  StoredObject,
} from '../../store/store';
import { auditItem } from './audit-items';

/** History entries expire after this many days (DynamoDB TTL on `expires_at`). */
export const HISTORY_RETENTION_DAYS = 30;

/** Where the table is and how to reach it. */
export interface DynamoStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  readonly clientConfig?: DynamoDBClientConfig;
}

/** What a transaction item stands for, so a cancellation reason maps back to a precise error. */
type Label =
  | { type: 'object'; kind: string; id: string; exists: boolean }
  | { type: 'guard'; kind: string; fields: readonly string[]; values: readonly unknown[] }
  | { type: 'guard-release' }
  | { type: 'ref'; ref: LiveRef }
  | { type: 'audit' };

const MAX_TRANSACTION_ITEMS = 100;
/** Attempts of a transaction that only collided with concurrent transactions. */
const TRANSACTION_CONFLICT_ATTEMPTS = 4;
const MAX_BATCH_GET = 100;

/** Counts calls per DynamoDB operation (for the benchmark's calls-per-request figure). */
export class CallCounter {
  readonly counts = new Map<string, number>();
  add(op: string): void {
    this.counts.set(op, (this.counts.get(op) ?? 0) + 1);
  }
  total(): number {
    let n = 0;
    for (const v of this.counts.values()) n += v;
    return n;
  }
}

/** The DynamoDB implementation of {@link Store}. */
export class DynamoStore implements Store {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  readonly calls = new CallCounter();

  constructor(options: DynamoStoreOptions) {
    this.tableName = options.tableName;
    this.client = options.client ?? new DynamoDBClient(options.clientConfig ?? {});
  }

  async get(kind: string, id: string): Promise<StoredObject | undefined> {
    this.calls.add('GetItem');
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: marshall(objectKey(kind, id)), ConsistentRead: true }),
    );
    return out.Item ? fromItem(out.Item) : undefined;
  }

  async getMany(keys: ReadonlyArray<{ kind: string; id: string }>): Promise<Map<string, StoredObject>> {
    const result = new Map<string, StoredObject>();
    const unique = [...new Map(keys.map((k) => [`${k.kind}#${k.id}`, k])).values()];
    for (let i = 0; i < unique.length; i += MAX_BATCH_GET) {
      let pending: Record<string, AttributeValue>[] = unique
        .slice(i, i + MAX_BATCH_GET)
        .map((k) => marshall(objectKey(k.kind, k.id)));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt) * Math.random());
        this.calls.add('BatchGetItem');
        const out = await this.client.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const obj = fromItem(item);
          result.set(obj.id, obj);
        }
        pending = (out.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, AttributeValue>[] | undefined) ?? [];
      }
    }
    return result;
  }

  async create(obj: StoredObject, liveRefs: readonly LiveRef[], audit: readonly AuditRecord[] = []): Promise<void> {
    const model = requireModel(obj.kind);
    const guards = uniqueGuards(model, obj);
    const item = toItem(obj);
    if (guards.length === 0 && liveRefs.length === 0 && audit.length === 0) {
      this.calls.add('PutItem');
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
      } catch (err) {
        if (err instanceof ConditionalCheckFailedException)
          throw new ConflictError(`${obj.kind} ${obj.id} already exists`);
        throw err;
      }
      return;
    }
    const items: TransactWriteItem[] = [
      { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } },
    ];
    const labels: Label[] = [{ type: 'object', kind: obj.kind, id: obj.id, exists: false }];
    for (const g of guards) {
      items.push(this.putGuard(g.key, obj));
      labels.push({ type: 'guard', kind: obj.kind, fields: g.fields, values: g.fields.map((f) => obj[f] ?? null) });
    }
    this.addRefChecks(items, labels, liveRefs);
    this.addAudit(items, labels, audit);
    await this.transact(items, labels);
  }

  async replace(
    changes: readonly Replacement[],
    liveRefs: readonly LiveRef[],
    audit: readonly AuditRecord[] = [],
  ): Promise<void> {
    const items: TransactWriteItem[] = [];
    const labels: Label[] = [];
    for (const { before, after } of changes) {
      const model = requireModel(after.kind);
      items.push({
        Put: {
          TableName: this.tableName,
          Item: toItem(after),
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: marshall({ ':v': before.version }),
        },
      });
      labels.push({ type: 'object', kind: after.kind, id: after.id, exists: true });
      const old = new Map(uniqueGuards(model, before).map((g) => [g.key.PK, g]));
      const next = new Map(uniqueGuards(model, after).map((g) => [g.key.PK, g]));
      for (const [pk, g] of old) {
        if (next.has(pk)) continue;
        items.push({
          Delete: {
            TableName: this.tableName,
            Key: marshall(g.key),
            ConditionExpression: 'attribute_not_exists(PK) OR owner_id = :id',
            ExpressionAttributeValues: marshall({ ':id': before.id }),
          },
        });
        labels.push({ type: 'guard-release' });
      }
      for (const [pk, g] of next) {
        if (old.has(pk)) continue;
        items.push(this.putGuard(g.key, after));
        labels.push({
          type: 'guard',
          kind: after.kind,
          fields: g.fields,
          values: g.fields.map((f) => after[f] ?? null),
        });
      }
    }
    this.addRefChecks(items, labels, liveRefs);
    this.addAudit(items, labels, audit);
    await this.transact(items, labels);
  }

  async findUnique(kind: string, fields: readonly string[], values: readonly unknown[]): Promise<string | undefined> {
    this.calls.add('GetItem');
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: marshall(uniqueGuardKey(requireModel(kind), fields, values)),
        ConsistentRead: true,
      }),
    );
    return out.Item ? (unmarshall(out.Item).owner_id as string) : undefined;
  }

  async queryPartition(
    index: IndexDefinition,
    partition: string,
    afterId: string | undefined,
    limit: number,
  ): Promise<PartitionPage> {
    this.calls.add('Query');
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: afterId === undefined ? '#pk = :pk' : '#pk = :pk AND #sk > :after',
        ExpressionAttributeNames:
          afterId === undefined ? { '#pk': index.partitionKey } : { '#pk': index.partitionKey, '#sk': index.sortKey },
        ExpressionAttributeValues: marshall(
          afterId === undefined ? { ':pk': partition } : { ':pk': partition, ':after': afterId },
        ),
        Limit: limit,
      }),
    );
    return { items: (out.Items ?? []).map(fromItem), exhausted: out.LastEvaluatedKey === undefined };
  }

  async acquireLease(
    current: StoredObject,
    owner: string,
    until: string,
    now: string,
    patch: Readonly<Record<string, unknown>> = {},
  ): Promise<StoredObject | undefined> {
    try {
      return await this.updateFeedback(current, patch, { lease: { owner, until, now } });
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return undefined;
      throw err;
    }
  }

  async recordFeedback(
    current: StoredObject,
    patch: Readonly<Record<string, unknown>>,
    options: { releaseLease?: boolean } = {},
  ): Promise<StoredObject> {
    try {
      return await this.updateFeedback(current, patch, options);
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        throw new ConflictError(
          `${current.kind} ${current.id} moved past version ${current.version} or is gone`,
          undefined,
          err,
        );
      }
      throw err;
    }
  }

  /**
   * One conditional UpdateItem of feedback fields (never `version`) with the dirty index kept in
   * step; optionally releasing the lease, or taking it in the same write (one round trip for Load).
   */
  private async updateFeedback(
    current: StoredObject,
    patch: Readonly<Record<string, unknown>>,
    options: { releaseLease?: boolean; lease?: { owner: string; until: string; now: string } },
  ): Promise<StoredObject> {
    const model = requireModel(current.kind);
    const merged = { ...current, ...patch } as StoredObject;
    const attrs = indexAttributes(model, merged);
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':v': current.version };
    const sets: string[] = [];
    Object.entries(patch).forEach(([k, v], i) => {
      if (k === 'version' || k === 'id' || k === 'kind') throw new Error(`feedback may not write ${k}`);
      names[`#f${i}`] = k;
      values[`:f${i}`] = encodeValue(current.kind, k, v);
      sets.push(`#f${i} = :f${i}`);
    });
    const removes: string[] = options.releaseLease ? ['lease_owner', 'lease_until', 'lease_version'] : [];
    let condition = 'attribute_exists(PK) AND #version = :v';
    if (options.lease) {
      // A lease binds one version: a newer version never waits for an older version's lease.
      sets.push('lease_owner = :lo', 'lease_until = :lu', 'lease_version = :v');
      Object.assign(values, { ':lo': options.lease.owner, ':lu': options.lease.until, ':now': options.lease.now });
      condition +=
        ' AND (attribute_not_exists(lease_until) OR lease_until < :now OR lease_owner = :lo OR lease_version <> :v)';
    }
    for (const key of [DIRTY_INDEX.partitionKey, DIRTY_INDEX.sortKey]) {
      names[`#${key}`] = key;
      if (attrs[key] === undefined) removes.push(`#${key}`);
      else {
        values[`:${key}`] = attrs[key];
        sets.push(`#${key} = :${key}`);
      }
    }
    this.calls.add('UpdateItem');
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall(objectKey(current.kind, current.id)),
        // Either clause may be empty (an empty patch releasing the lease of an object that is not dirty).
        UpdateExpression: [
          sets.length > 0 ? `SET ${sets.join(', ')}` : '',
          removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join(' '),
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return fromItem(out.Attributes ?? {});
  }

  async readMarker(name: string): Promise<string | undefined> {
    this.calls.add('GetItem');
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: marshall(markerKey(name)), ConsistentRead: true }),
    );
    const value = out.Item ? unmarshall(out.Item).value : undefined;
    return typeof value === 'string' ? value : undefined;
  }

  async writeMarker(name: string, value: string): Promise<void> {
    this.calls.add('PutItem');
    await this.client.send(
      new PutItemCommand({ TableName: this.tableName, Item: marshall({ ...markerKey(name), value }) }),
    );
  }

  async postponeDue(current: StoredObject, until: string, now = new Date().toISOString()): Promise<boolean> {
    if (!needsSynchronizer(current)) return false;
    const register = current.backend_register ?? null;
    const values: Record<string, unknown> = {
      ':v': current.version,
      ':now': now,
      ':after': `${until}#${current.kind}#${current.id}`,
    };
    // "Nothing wrote the object since it was read": the same version and the same retry bookkeeping
    // (every execution start and outcome rewrites it), and no live lease.
    let unchanged = 'attribute_not_exists(backend_register) OR attribute_type(backend_register, :null)';
    if (register !== null) {
      unchanged = 'backend_register = :reg';
      values[':reg'] = encodeValue(current.kind, 'backend_register', register);
    } else values[':null'] = 'NULL';
    this.calls.add('UpdateItem');
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(objectKey(current.kind, current.id)),
          UpdateExpression: 'SET #due = :after',
          ConditionExpression: `#version = :v AND (${unchanged}) AND (attribute_not_exists(lease_until) OR lease_until < :now)`,
          ExpressionAttributeNames: { '#version': 'version', '#due': DIRTY_INDEX.sortKey },
          ExpressionAttributeValues: marshall(values),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async purge(obj: StoredObject): Promise<void> {
    const model = requireModel(obj.kind);
    const items: TransactWriteItem[] = [
      {
        Delete: {
          TableName: this.tableName,
          Key: marshall(objectKey(obj.kind, obj.id)),
          ConditionExpression: 'attribute_not_exists(PK) OR (deleted = :t AND #version = :v)',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: marshall({ ':t': true, ':v': obj.version }),
        },
      },
      ...uniqueGuards(model, obj).map((g) => ({
        Delete: {
          TableName: this.tableName,
          Key: marshall(g.key),
          ConditionExpression: 'attribute_not_exists(PK) OR owner_id = :id',
          ExpressionAttributeValues: marshall({ ':id': obj.id }),
        },
      })),
    ];
    await this.transact(items, [
      { type: 'object', kind: obj.kind, id: obj.id, exists: true },
      ...items.slice(1).map(() => ({ type: 'guard-release' }) as const),
    ]);
  }

  async appendHistory(kind: string, id: string, entry: HistoryEntry): Promise<void> {
    this.calls.add('PutItem');
    const expires = Math.floor(Date.parse(entry.time) / 1000) + HISTORY_RETENTION_DAYS * 86_400;
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall(
          { PK: `${kind}#${id}`, SK: `HIST#${entry.time}#${randomUUID().slice(0, 8)}`, ...entry, expires_at: expires },
          { removeUndefinedValues: true },
        ),
      }),
    );
  }

  async listHistory(
    kind: string,
    id: string,
    limit: number,
    before?: string,
  ): Promise<{ items: HistoryEntry[]; next: string | null }> {
    this.calls.add('Query');
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression:
          before === undefined ? 'PK = :pk AND begins_with(SK, :h)' : 'PK = :pk AND SK BETWEEN :h AND :before',
        ExpressionAttributeValues: marshall(
          before === undefined
            ? { ':pk': `${kind}#${id}`, ':h': 'HIST#' }
            : { ':pk': `${kind}#${id}`, ':h': 'HIST#', ':before': before },
        ),
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const raw = (out.Items ?? []).map((i) => unmarshall(i));
    const items = raw
      .filter((r) => r.SK !== before)
      .map(({ PK: _pk, SK: _sk, expires_at: _e, ...entry }) => entry as HistoryEntry);
    const last = raw[raw.length - 1];
    return { items, next: out.LastEvaluatedKey && last ? String(last.SK) : null };
  }

  async addWaiter(dependency: ObjectRef, waiter: ObjectRef): Promise<void> {
    this.calls.add('PutItem');
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({
          PK: `WAIT#${dependency.kind}#${dependency.id}`,
          SK: `${waiter.kind}#${waiter.id}`,
          kind: waiter.kind,
          id: waiter.id,
        }),
      }),
    );
  }

  async takeWaiters(dependency: ObjectRef): Promise<ObjectRef[]> {
    this.calls.add('Query');
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: marshall({ ':pk': `WAIT#${dependency.kind}#${dependency.id}` }),
        ConsistentRead: true,
      }),
    );
    const waiters = (out.Items ?? []).map((i) => unmarshall(i) as { PK: string; SK: string; kind: string; id: string });
    await Promise.all(
      waiters.map((w) => {
        this.calls.add('DeleteItem');
        return this.client.send(
          new DeleteItemCommand({ TableName: this.tableName, Key: marshall({ PK: w.PK, SK: w.SK }) }),
        );
      }),
    );
    return waiters.map((w) => ({ kind: w.kind, id: w.id }));
  }

  async listDue(dueBy: string, limit: number): Promise<ObjectRef[]> {
    const pages = await Promise.all(
      Array.from({ length: DIRTY_SHARDS }, (_, shard) => {
        this.calls.add('Query');
        return this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: DIRTY_INDEX.name,
            KeyConditionExpression: '#pk = :pk AND #sk < :bound',
            ExpressionAttributeNames: { '#pk': DIRTY_INDEX.partitionKey, '#sk': DIRTY_INDEX.sortKey },
            // '$' sorts right after '#': every entry due exactly at dueBy is included.
            ExpressionAttributeValues: marshall({ ':pk': `DIRTY#${shard}`, ':bound': `${dueBy}$` }),
            Limit: limit,
          }),
        );
      }),
    );
    return pages
      .flatMap((p) => (p.Items ?? []).map((i) => String(unmarshall(i)[DIRTY_INDEX.sortKey])))
      .sort()
      .slice(0, limit)
      .map((sk) => {
        const [, kind, id] = sk.split('#');
        return { kind: kind as string, id: id as string };
      });
  }

  private putGuard(key: { PK: string; SK: string }, obj: StoredObject): TransactWriteItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: marshall({ ...key, owner_id: obj.id, owner_kind: obj.kind }),
        ConditionExpression: 'attribute_not_exists(PK) OR owner_id = :id',
        ExpressionAttributeValues: marshall({ ':id': obj.id }),
      },
    };
  }

  private addRefChecks(items: TransactWriteItem[], labels: Label[], liveRefs: readonly LiveRef[]): void {
    const seen = new Set<string>();
    for (const ref of liveRefs) {
      const k = `${ref.kind}#${ref.id}`;
      // A transaction may name an item once: a reference to an object written in it is checked by that write.
      if (seen.has(k) || labels.some((l) => l.type === 'object' && l.kind === ref.kind && l.id === ref.id)) continue;
      seen.add(k);
      items.push({
        ConditionCheck: {
          TableName: this.tableName,
          Key: marshall(objectKey(ref.kind, ref.id)),
          ConditionExpression: 'attribute_exists(PK) AND deleted = :f',
          ExpressionAttributeValues: marshall({ ':f': false }),
        },
      });
      labels.push({ type: 'ref', ref });
    }
  }

  /** The write's audit records, in its transaction: no change commits without its record. */
  private addAudit(items: TransactWriteItem[], labels: Label[], audit: readonly AuditRecord[]): void {
    for (const record of audit) {
      items.push({ Put: { TableName: this.tableName, Item: auditItem(record) } });
      labels.push({ type: 'audit' });
    }
  }

  private async transact(items: TransactWriteItem[], labels: Label[]): Promise<void> {
    if (items.length > MAX_TRANSACTION_ITEMS) {
      throw new ConflictError(
        `the write touches ${items.length} items; at most ${MAX_TRANSACTION_ITEMS} fit one transaction`,
      );
    }
    // One token for all attempts: a retry of a transaction that did commit is a no-op.
    const token = randomUUID();
    for (let attempt = 1; ; attempt++) {
      this.calls.add('TransactWriteItems');
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: items, ClientRequestToken: token }));
        return;
      } catch (err) {
        if (!(err instanceof TransactionCanceledException)) throw err;
        // Only a collision with a concurrent transaction on the same items (e.g. two creates
        // checking the same parent) is retried, with jittered backoff; a failed condition is final.
        const reasons = err.CancellationReasons ?? [];
        const onlyConflicts = reasons.every((r) => r.Code === 'None' || r.Code === 'TransactionConflict');
        const conflicted = reasons.some((r) => r.Code === 'TransactionConflict');
        if (!onlyConflicts || !conflicted || attempt >= TRANSACTION_CONFLICT_ATTEMPTS)
          throw cancellationError(err, labels);
        await sleep(Math.random() * 25 * 2 ** attempt);
      }
    }
  }
}

function cancellationError(err: TransactionCanceledException, labels: Label[]): Error {
  const reasons = err.CancellationReasons ?? [];
  const conflicts: Record<string, string> = {};
  const deadRefs: Record<string, string> = {};
  let stale: Label | undefined;
  reasons.forEach((reason, i) => {
    const label = labels[i];
    if (!label || reason.Code !== 'ConditionalCheckFailed') return;
    if (label.type === 'guard') {
      const what = label.fields.map((f, j) => `${f}=${JSON.stringify(label.values[j])}`).join(', ');
      for (const f of label.fields) conflicts[f] = `a ${label.kind} with ${what} already exists`;
    } else if (label.type === 'ref') {
      deadRefs[label.ref.field] = `${label.ref.kind} ${label.ref.id} does not exist or is deleted`;
    } else if (label.type === 'object') {
      stale = label;
    }
  });
  if (Object.keys(deadRefs).length > 0)
    return new ValidationError('references must point at live objects', deadRefs, err);
  if (Object.keys(conflicts).length > 0) return new ConflictError('unique constraint violated', conflicts, err);
  if (stale?.type === 'object') {
    return new ConflictError(
      stale.exists
        ? `${stale.kind} ${stale.id} was modified concurrently; re-read it and retry with its current version`
        : `${stale.kind} ${stale.id} already exists`,
      undefined,
      err,
    );
  }
  // TransactionConflict: another transaction touched the same items at the same moment.
  return new ConflictError('a concurrent write touched the same objects; retry', undefined, err);
}

/**
 * JSON fields are stored as JSON text: whatever a client puts in them (numbers beyond DynamoDB's
 * range, deep nesting, empty keys) round-trips exactly, and nothing in them is ever a key.
 */
function encodeValue(kind: string, field: string, value: unknown): unknown {
  return value !== null && value !== undefined && requireModel(kind).allFields[field]?.type === 'json'
    ? JSON.stringify(value)
    : value;
}

function toItem(obj: StoredObject): Record<string, AttributeValue> {
  const model = requireModel(obj.kind);
  const encoded: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) encoded[k] = encodeValue(obj.kind, k, v);
  return marshall({ ...encoded, ...indexAttributes(model, obj) }, { removeUndefinedValues: true });
}

/** A synchronizer marker: `MARKER#<name>` / `MARKER` (no index attributes). */
function markerKey(name: string): { PK: string; SK: string } {
  return { PK: `MARKER#${name}`, SK: 'MARKER' };
}

function fromItem(item: Record<string, AttributeValue>): StoredObject {
  const raw = unmarshall(item);
  for (const k of KEY_ATTRIBUTES) delete raw[k];
  const model = typeof raw.kind === 'string' ? requireModel(raw.kind) : undefined;
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string' && model?.allFields[k]?.type === 'json') raw[k] = JSON.parse(v);
  }
  return raw as StoredObject;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
