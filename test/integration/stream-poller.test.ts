/**
 * The stream poller against the real DynamoDB Local stream: order, event shape, partial batch
 * responses, poison records, LATEST, and a clean stop.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { makeDispatchHandler } from '../../functions/dispatch/handler';
import { type StreamLambda, StreamPoller, type StreamPollerOptions } from '../../infra/local/stream-poller';
import { dynamoClientConfig } from '../../shared/adapters/compose';
import type { Logger } from '../../shared/api/errors';
import type { ExecutionInput, WorkflowStarter } from '../../shared/sync/contract';
import { testEndpoint } from '../helpers/stack';

let client: DynamoDBClient;
const tables: string[] = [];
const pollers: StreamPoller[] = [];
const cleanups: Array<() => void> = [];
const logs: string[] = [];
const log: Logger = {
  error: (message, detail) => logs.push(JSON.stringify({ level: 'ERROR', message, ...detail })),
  info: (message, detail) => logs.push(JSON.stringify({ level: 'INFO', message, ...detail })),
};

beforeAll(() => {
  client = new DynamoDBClient(dynamoClientConfig(testEndpoint()));
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  for (const t of tables) await client.send(new DeleteTableCommand({ TableName: t }));
  client.destroy();
});

/** A small table with a NEW_AND_OLD_IMAGES stream. */
async function table(): Promise<string> {
  const name = `xos-poller-${randomBytes(5).toString('hex')}`;
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'PK', AttributeType: 'S' },
        { AttributeName: 'SK', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  tables.push(name);
  return name;
}

function poller(tableName: string, handler: StreamLambda, extra: Partial<StreamPollerOptions> = {}): StreamPoller {
  const p = new StreamPoller({ endpoint: testEndpoint(), tableName, handler, pollIntervalMs: 50, log, ...extra });
  pollers.push(p);
  return p;
}

const put = (t: string, item: Record<string, unknown>) =>
  client.send(new PutItemCommand({ TableName: t, Item: marshall(item) }));

const versionOf = (r: DynamoDBRecord) =>
  (r.dynamodb?.NewImage ? unmarshall(r.dynamodb.NewImage as never) : {}).version as number | undefined;

test('writes arrive as Lambda stream events, in order, in batches of at most batchSize', async () => {
  const t = await table();
  const events: DynamoDBRecord[] = [];
  const sizes: number[] = [];
  const p = poller(
    t,
    async (event: DynamoDBStreamEvent) => {
      sizes.push(event.Records.length);
      events.push(...event.Records);
      return { batchItemFailures: [] };
    },
    { batchSize: 7 },
  );
  await put(t, { PK: 'Site#0', SK: 'META', kind: 'Site', id: '0', version: 0 });
  await p.start();
  for (let v = 1; v <= 20; v++)
    await put(t, { PK: `Site#${v % 4}`, SK: 'META', kind: 'Site', id: String(v % 4), version: v });
  await client.send(
    new UpdateItemCommand({
      TableName: t,
      Key: marshall({ PK: 'Site#1', SK: 'META' }),
      UpdateExpression: 'SET backend_status = :s',
      ExpressionAttributeValues: marshall({ ':s': 'OK' }),
    }),
  );
  await client.send(new DeleteItemCommand({ TableName: t, Key: marshall({ PK: 'Site#2', SK: 'META' }) }));
  await p.drained();

  expect(events).toHaveLength(23);
  expect(Math.max(...sizes)).toBeLessThanOrEqual(7);
  expect(events.slice(0, 21).map(versionOf)).toEqual(Array.from({ length: 21 }, (_, i) => i));
  const seqs = events.map((e) => BigInt(e.dynamodb?.SequenceNumber ?? '0'));
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1] as bigint);
  expect(events.map((e) => e.eventName)).toEqual([
    'INSERT',
    'INSERT',
    'INSERT',
    'INSERT',
    ...Array(17).fill('MODIFY'),
    'MODIFY',
    'REMOVE',
  ]);

  const first = events[0] as DynamoDBRecord;
  expect(first).toMatchObject({
    eventSource: 'aws:dynamodb',
    eventVersion: '1.1',
    eventSourceARN: p.streamArn,
    dynamodb: {
      Keys: { PK: { S: 'Site#0' }, SK: { S: 'META' } },
      NewImage: { PK: { S: 'Site#0' }, SK: { S: 'META' }, kind: { S: 'Site' }, id: { S: '0' }, version: { N: '0' } },
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  });
  expect(typeof first.eventID).toBe('string');
  expect(typeof first.awsRegion).toBe('string');
  expect(typeof first.dynamodb?.ApproximateCreationDateTime).toBe('number');
  expect(Math.abs((first.dynamodb?.ApproximateCreationDateTime ?? 0) - Date.now() / 1000)).toBeLessThan(300);
  const feedback = events[21] as DynamoDBRecord;
  expect(feedback.dynamodb?.OldImage?.backend_status).toBeUndefined();
  expect(feedback.dynamodb?.NewImage?.backend_status).toEqual({ S: 'OK' });
  expect((events[22] as DynamoDBRecord).dynamodb?.NewImage).toBeUndefined();
  expect((events[22] as DynamoDBRecord).dynamodb?.OldImage?.PK).toEqual({ S: 'Site#2' });
  expect(p.stats()).toMatchObject({ records: 23, redelivered: 0, discarded: 0 });
});

test('empty maps arrive as {"M":{}} (DynamoDB Local writes {} in stream images)', async () => {
  const t = await table();
  const images: unknown[] = [];
  const p = poller(t, async (event: DynamoDBStreamEvent) => {
    images.push(...event.Records.map((r) => unmarshall(r.dynamodb?.NewImage as never)));
  });
  await p.start();
  await put(t, { PK: 'Site#m', SK: 'META', register: {}, nested: { inner: {}, list: [{}] }, list: [] });
  await p.drained();
  expect(images).toEqual([{ PK: 'Site#m', SK: 'META', register: {}, nested: { inner: {}, list: [{}] }, list: [] }]);
});

test('a version-unchanged MODIFY starts nothing through the dispatch handler', async () => {
  const t = await table();
  const started: string[] = [];
  const starter: WorkflowStarter = {
    start: async (name: string, _input: ExecutionInput) => {
      started.push(name);
      return 'started';
    },
  };
  const p = poller(
    t,
    makeDispatchHandler(() => starter, { log }),
  );
  await p.start();
  await put(t, { PK: 'Site#a', SK: 'META', kind: 'Site', id: 'a', version: 1 });
  await client.send(
    new UpdateItemCommand({
      TableName: t,
      Key: marshall({ PK: 'Site#a', SK: 'META' }),
      UpdateExpression: 'SET backend_status = :s, backend_code = :c',
      ExpressionAttributeValues: marshall({ ':s': 'OK', ':c': 1 }),
    }),
  );
  await put(t, { PK: 'Site#a', SK: 'HIST#2024', kind: 'Site', id: 'a', version: 1 }); // not an object item
  await put(t, { PK: 'Site#a', SK: 'META', kind: 'Site', id: 'a', version: 2 });
  await p.drained();
  expect(started).toEqual(['Site-a-v1', 'Site-a-v2']);
});

test('a failed record is re-delivered from itself; the records before it are not', async () => {
  const t = await table();
  for (let v = 0; v < 6; v++) await put(t, { PK: `Site#${v}`, SK: 'META', version: v });
  const delivered: number[] = [];
  let failedOnce = false;
  const p = poller(t, async (event: DynamoDBStreamEvent) => {
    delivered.push(...event.Records.map((r) => versionOf(r) as number));
    const bad = event.Records.find((r) => versionOf(r) === 3);
    if (bad && !failedOnce) {
      failedOnce = true;
      return { batchItemFailures: [{ itemIdentifier: bad.dynamodb?.SequenceNumber as string }] };
    }
    return undefined;
  });
  await p.start();
  await p.drained();
  expect(delivered).toEqual([0, 1, 2, 3, 4, 5, 3, 4, 5]);
  expect(p.stats()).toMatchObject({ batches: 2, records: 9, redelivered: 3, discarded: 0 });
});

test('a handler that throws gets the whole batch again; an unknown itemIdentifier fails the whole batch', async () => {
  const t = await table();
  for (let v = 0; v < 3; v++) await put(t, { PK: `Site#${v}`, SK: 'META', version: v });
  const delivered: number[][] = [];
  const p = poller(
    t,
    async (event: DynamoDBStreamEvent) => {
      delivered.push(event.Records.map((r) => versionOf(r) as number));
      if (delivered.length === 1) throw new Error('boom');
      if (delivered.length === 2) return { batchItemFailures: [{ itemIdentifier: event.Records[1]?.eventID ?? '' }] };
      return {};
    },
    { retryDelayMs: 10 },
  );
  await p.start();
  await p.drained();
  // An eventID is not a sequence number: Lambda treats it as a failure of the whole batch.
  expect(delivered).toEqual([
    [0, 1, 2],
    [0, 1, 2],
    [0, 1, 2],
  ]);
});

test('a poison record is retried a bounded number of times, then skipped (DLQ stand-in)', async () => {
  const t = await table();
  const delivered: number[] = [];
  const discarded: DynamoDBRecord[] = [];
  const p = poller(
    t,
    async (event: DynamoDBStreamEvent) => {
      delivered.push(...event.Records.map((r) => versionOf(r) as number));
      const poison = event.Records.find((r) => versionOf(r) === 1);
      return { batchItemFailures: poison ? [{ itemIdentifier: poison.dynamodb?.SequenceNumber as string }] : [] };
    },
    { maxRetries: 2, retryDelayMs: 10, onDiscard: (r) => discarded.push(r) },
  );
  for (let v = 0; v < 3; v++) await put(t, { PK: `Site#${v}`, SK: 'META', version: v });
  await p.start();
  await p.drained();
  expect(delivered).toEqual([0, 1, 2, 1, 2, 1, 2, 2]);
  expect(discarded.map(versionOf)).toEqual([1]);
  expect(p.stats().discarded).toBe(1);
  const line = logs.map((l) => JSON.parse(l)).find((l) => l.message === 'stream record skipped after retries');
  expect(line).toMatchObject({ keys: { PK: 'Site#1', SK: 'META' }, attempts: 3 });
  expect(JSON.stringify(line)).not.toContain('NewImage');
  // The shard goes on after the skip.
  await put(t, { PK: 'Site#9', SK: 'META', version: 9 });
  await p.drained();
  expect(delivered.at(-1)).toBe(9);
});

test('LATEST skips what was written before start()', async () => {
  const t = await table();
  await put(t, { PK: 'Site#old', SK: 'META', version: 1 });
  const seen: string[] = [];
  const p = poller(
    t,
    async (event: DynamoDBStreamEvent) => {
      seen.push(...event.Records.map((r) => r.dynamodb?.Keys?.PK?.S as string));
    },
    { startingPosition: 'LATEST' },
  );
  await p.start();
  await put(t, { PK: 'Site#new', SK: 'META', version: 1 });
  await p.drained();
  expect(seen).toEqual(['Site#new']);
});

test('stop() waits for the batch in flight, then nothing more is delivered', async () => {
  const t = await table();
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  cleanups.push(() => release());
  let entered!: () => void;
  const inHandler = new Promise<void>((r) => {
    entered = r;
  });
  const calls: number[] = [];
  let finished = 0;
  const p = poller(t, async (event: DynamoDBStreamEvent) => {
    calls.push(event.Records.length);
    entered();
    await gate;
    finished++;
  });
  await p.start();
  await put(t, { PK: 'Site#1', SK: 'META', version: 1 });
  await inHandler;
  let stopped = false;
  const stopping = p.stop().then(() => {
    stopped = true;
  });
  await new Promise((r) => setTimeout(r, 100));
  expect(stopped).toBe(false);
  release();
  await stopping;
  expect(finished).toBe(1);
  await put(t, { PK: 'Site#2', SK: 'META', version: 2 });
  await new Promise((r) => setTimeout(r, 200));
  expect(calls).toEqual([1]);
  await expect(p.drained()).rejects.toThrow(/not running/);
  await p.stop(); // idempotent
});
