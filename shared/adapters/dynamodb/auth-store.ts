/**
 * Sessions, login failures and the audit trail in the model's single table (no new index):
 *
 * | Item            | PK                          | SK                | Notes                                      |
 * | --------------- | --------------------------- | ----------------- | ------------------------------------------ |
 * | session         | `SESSION#<id>`              | `SESSION`         | refresh hash, revoked; TTL `expires_at`    |
 * | login failures  | `LOGINFAIL#<sha256(login)>` | `LOGINFAIL`       | count, window, locked_until; TTL           |
 * | audit (object)  | `AUDIT#<Kind>#<id>`         | `<audit ulid>`    | also in index ref1 under `AUDIT#actor#<user id>`, so the per-user view is one Query |
 *
 * The per-request check reads the user item (projected: no hash leaves DynamoDB) and the session
 * item in one BatchGetItem.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AuthStore, LoginFailures, Principal, SessionRecord } from '../../auth/sessions';
import type { AuditPage, AuditRecord, AuditStore } from '../../authz/audit';
import { objectKey } from '../../model/table';
import { ACTOR_INDEX, actorPartition, auditItem, auditPartition } from './audit-items';
import type { CallCounter } from './dynamo-store';

/** What the per-request check reads of the user and session items. */
const PRINCIPAL_ATTRIBUTES = [
  'PK',
  'id',
  'email',
  'username',
  'is_admin',
  'is_active',
  'deleted',
  'user_id',
  'refresh_hash',
  'created',
  'expires',
  'revoked',
];

const sessionKey = (id: string) => ({ PK: `SESSION#${id}`, SK: 'SESSION' });
const failureKey = (key: string) => ({ PK: `LOGINFAIL#${key}`, SK: 'LOGINFAIL' });

function epoch(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

/** The AuthStore and AuditStore ports on DynamoDB. */
export class DynamoAuthStore implements AuthStore, AuditStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly calls: CallCounter,
  ) {}

  async principal(userId: string, sessionId?: string): Promise<{ user?: Principal; session?: SessionRecord }> {
    const userKey = objectKey('User', userId);
    const keys = [marshall(userKey)];
    if (sessionId !== undefined) keys.push(marshall(sessionKey(sessionId)));
    const out: { user?: Principal; session?: SessionRecord } = {};
    let pending: Record<string, AttributeValue>[] = keys;
    for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
      this.calls.add('BatchGetItem');
      const res = await this.client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [this.tableName]: {
              Keys: pending,
              ConsistentRead: true,
              // Never the password hash: only what the check needs.
              ProjectionExpression: PRINCIPAL_ATTRIBUTES.map((_, i) => `#a${i}`).join(', '),
              ExpressionAttributeNames: Object.fromEntries(PRINCIPAL_ATTRIBUTES.map((a, i) => [`#a${i}`, a])),
            },
          },
        }),
      );
      for (const item of res.Responses?.[this.tableName] ?? []) {
        const raw = unmarshall(item);
        if (raw.PK === userKey.PK) {
          out.user = {
            id: String(raw.id),
            email: String(raw.email),
            username: typeof raw.username === 'string' ? raw.username : undefined,
            is_admin: raw.is_admin === true,
            is_active: raw.is_active === true,
            deleted: raw.deleted === true,
          };
        } else out.session = toSession(raw);
      }
      pending = (res.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, AttributeValue>[] | undefined) ?? [];
    }
    return out;
  }

  async getSession(id: string): Promise<SessionRecord | undefined> {
    const item = await this.getItem(sessionKey(id));
    return item ? toSession(item) : undefined;
  }

  /** One item by key, strongly consistent. */
  private async getItem(key: { PK: string; SK: string }): Promise<Record<string, unknown> | undefined> {
    this.calls.add('GetItem');
    const res = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: marshall(key), ConsistentRead: true }),
    );
    return res.Item ? unmarshall(res.Item) : undefined;
  }

  async putSession(session: SessionRecord): Promise<void> {
    this.calls.add('PutItem');
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: marshall({ ...sessionKey(session.id), ...session, expires_at: epoch(session.expires) }),
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  rotateSession(id: string, expectedHash: string, nextHash: string, expires: string): Promise<boolean> {
    return this.updateIf({
      TableName: this.tableName,
      Key: marshall(sessionKey(id)),
      UpdateExpression: 'SET refresh_hash = :n, #e = :e, expires_at = :t',
      ConditionExpression: 'refresh_hash = :o AND #r = :f',
      ExpressionAttributeNames: { '#e': 'expires', '#r': 'revoked' },
      ExpressionAttributeValues: marshall({
        ':n': nextHash,
        ':o': expectedHash,
        ':e': expires,
        ':t': epoch(expires),
        ':f': false,
      }),
    });
  }

  async revokeSession(id: string): Promise<void> {
    await this.updateIf({
      TableName: this.tableName,
      Key: marshall(sessionKey(id)),
      UpdateExpression: 'SET #r = :t',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: { '#r': 'revoked' },
      ExpressionAttributeValues: marshall({ ':t': true }),
    });
  }

  /** A conditional update: false when its condition failed. */
  private async updateIf(input: UpdateItemCommandInput): Promise<boolean> {
    this.calls.add('UpdateItem');
    try {
      await this.client.send(new UpdateItemCommand(input));
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw err;
    }
  }

  async loginFailures(key: string): Promise<LoginFailures | undefined> {
    const item = await this.getItem(failureKey(key));
    return item ? toFailures(item) : undefined;
  }

  async addLoginFailure(key: string, now: string, windowStart: string, ttlSeconds: number): Promise<LoginFailures> {
    const ttl = epoch(now) + ttlSeconds;
    this.calls.add('UpdateItem');
    try {
      const res = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: marshall(failureKey(key)),
          UpdateExpression:
            'SET first_failure = if_not_exists(first_failure, :now), expires_at = :ttl ADD failures :one',
          ConditionExpression: 'attribute_not_exists(first_failure) OR first_failure > :start',
          ExpressionAttributeValues: marshall({ ':now': now, ':ttl': ttl, ':one': 1, ':start': windowStart }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toFailures(unmarshall(res.Attributes ?? {}));
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
    // The window passed: start counting again (an active lock is kept).
    this.calls.add('UpdateItem');
    const res = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall(failureKey(key)),
        UpdateExpression: 'SET first_failure = :now, failures = :one, expires_at = :ttl',
        ExpressionAttributeValues: marshall({ ':now': now, ':ttl': ttl, ':one': 1 }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toFailures(unmarshall(res.Attributes ?? {}));
  }

  async lockLogin(key: string, until: string): Promise<void> {
    this.calls.add('UpdateItem');
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: marshall(failureKey(key)),
        UpdateExpression: 'SET locked_until = :u, expires_at = :t',
        ExpressionAttributeValues: marshall({ ':u': until, ':t': epoch(until) + 60 }),
      }),
    );
  }

  async clearLoginFailures(key: string): Promise<void> {
    this.calls.add('DeleteItem');
    await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: marshall(failureKey(key)) }));
  }

  async putAudit(records: readonly AuditRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 25) {
      let pending = records.slice(i, i + 25).map((r) => ({ PutRequest: { Item: auditItem(r) } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((res) => setTimeout(res, Math.min(1000, 20 * 2 ** attempt)));
        this.calls.add('BatchWriteItem');
        const res = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.tableName]: pending } }));
        pending = (res.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
      }
    }
  }

  listAuditOfObject(kind: string, id: string, limit: number, before?: string): Promise<AuditPage> {
    return this.queryAudit(undefined, 'PK', 'SK', auditPartition(kind, id), limit, before);
  }

  listAuditOfActor(userId: string, limit: number, before?: string): Promise<AuditPage> {
    return this.queryAudit(
      ACTOR_INDEX.name,
      ACTOR_INDEX.partitionKey,
      ACTOR_INDEX.sortKey,
      actorPartition(userId),
      limit,
      before,
    );
  }

  private async queryAudit(
    index: string | undefined,
    pk: string,
    sk: string,
    value: string,
    limit: number,
    before?: string,
  ): Promise<AuditPage> {
    this.calls.add('Query');
    const res = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: before === undefined ? '#pk = :pk' : '#pk = :pk AND #sk < :before',
        ExpressionAttributeNames: { '#pk': pk, ...(before === undefined ? {} : { '#sk': sk }) },
        ExpressionAttributeValues: marshall(
          before === undefined ? { ':pk': value } : { ':pk': value, ':before': before },
        ),
        ScanIndexForward: false,
        Limit: limit,
        ConsistentRead: index === undefined,
      }),
    );
    const items = (res.Items ?? []).map((i) => JSON.parse(String(unmarshall(i).record)) as AuditRecord);
    const last = items[items.length - 1];
    return { items, next_cursor: res.LastEvaluatedKey && last ? last.id : null };
  }
}

function toSession(raw: Record<string, unknown>): SessionRecord {
  return {
    id: String(raw.id),
    user_id: String(raw.user_id),
    refresh_hash: String(raw.refresh_hash),
    created: String(raw.created),
    expires: String(raw.expires),
    revoked: raw.revoked === true,
  };
}

function toFailures(raw: Record<string, unknown>): LoginFailures {
  return {
    failures: Number(raw.failures ?? 0),
    first_failure: String(raw.first_failure ?? ''),
    locked_until: typeof raw.locked_until === 'string' ? raw.locked_until : undefined,
  };
}
