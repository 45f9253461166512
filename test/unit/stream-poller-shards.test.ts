/**
 * Shard lineage in the stream poller, against a scripted DynamoDB Streams stand-in: DynamoDB Local
 * keeps one open shard per table, so closed parents, children and expired iterators cannot be
 * produced there.
 */
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { StreamPoller } from '../../infra/local/stream-poller';
import type { Logger } from '../../shared/api/errors';

const ARN = 'arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/2024-01-01T00:00:00.000';

interface FakeShard {
  id: string;
  parent?: string;
  records: StreamsRecord[];
  closed: boolean;
}

const seq = (n: number) => String(n).padStart(21, '0');
const record = (n: number): StreamsRecord => ({
  eventID: `e${n}`,
  eventName: 'INSERT',
  eventSource: 'aws:dynamodb',
  awsRegion: 'ddblocal',
  dynamodb: {
    ApproximateCreationDateTime: new Date(1_700_000_000_000),
    Keys: { PK: { S: `K#${n}` }, SK: { S: 'META' } },
    NewImage: { PK: { S: `K#${n}` }, SK: { S: 'META' }, bin: { B: new Uint8Array([1, 2, 3]) } },
    SequenceNumber: seq(n),
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
});

class FakeStreams {
  readonly shards: FakeShard[] = [];
  readonly calls: string[] = [];
  expireNextGetRecords = false;

  async send(command: unknown): Promise<unknown> {
    if (command instanceof DescribeStreamCommand) {
      return {
        StreamDescription: {
          StreamArn: ARN,
          Shards: this.shards.map((s) => ({
            ShardId: s.id,
            ParentShardId: s.parent,
            SequenceNumberRange: {
              StartingSequenceNumber: s.records[0]?.dynamodb?.SequenceNumber,
              EndingSequenceNumber: s.closed ? (s.records.at(-1)?.dynamodb?.SequenceNumber ?? seq(0)) : undefined,
            },
          })),
        },
      };
    }
    if (command instanceof GetShardIteratorCommand) {
      const { ShardId, ShardIteratorType, SequenceNumber } = command.input;
      const shard = this.shard(ShardId);
      const pos =
        ShardIteratorType === 'TRIM_HORIZON'
          ? 0
          : ShardIteratorType === 'LATEST'
            ? shard.records.length
            : shard.records.findIndex((r) => r.dynamodb?.SequenceNumber === SequenceNumber) + 1;
      this.calls.push(`iterator ${ShardId} ${ShardIteratorType}${SequenceNumber ? ` ${Number(SequenceNumber)}` : ''}`);
      return { ShardIterator: `${ShardId}|${pos}` };
    }
    if (command instanceof GetRecordsCommand) {
      const [id = '', p = '0'] = (command.input.ShardIterator ?? '').split('|');
      if (this.expireNextGetRecords) {
        this.expireNextGetRecords = false;
        throw Object.assign(new Error('Iterator expired'), { name: 'ExpiredIteratorException' });
      }
      const shard = this.shard(id);
      const pos = Number(p);
      const records = shard.records.slice(pos, pos + (command.input.Limit ?? 1000));
      const next = pos + records.length;
      if (records.length > 0)
        this.calls.push(`records ${id} ${records.map((r) => Number(r.dynamodb?.SequenceNumber)).join(',')}`);
      return {
        Records: records,
        NextShardIterator: shard.closed && next >= shard.records.length ? undefined : `${id}|${next}`,
      };
    }
    throw new Error(`unexpected command ${String(command)}`);
  }

  private shard(id: string | undefined): FakeShard {
    const s = this.shards.find((x) => x.id === id);
    if (!s) throw Object.assign(new Error('no shard'), { name: 'ResourceNotFoundException' });
    return s;
  }
}

const silent: Logger = { error: () => undefined, info: () => undefined };
const pollers: StreamPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

function poller(fake: FakeStreams, batches: number[][], extra: { startingPosition?: 'LATEST' } = {}) {
  const p = new StreamPoller({
    streamArn: ARN,
    clients: { dynamodb: { send: async () => ({}) } as never, streams: fake as never },
    handler: async (event: DynamoDBStreamEvent) => {
      batches.push(event.Records.map((r) => Number(r.dynamodb?.SequenceNumber)));
    },
    batchSize: 2,
    pollIntervalMs: 5,
    log: silent,
    ...extra,
  });
  pollers.push(p);
  return p;
}

test('a closed parent is read to its end before its children; new children are followed', async () => {
  const fake = new FakeStreams();
  fake.shards.push({ id: 'child', parent: 'parent', records: [record(4), record(5)], closed: false });
  fake.shards.push({ id: 'parent', records: [record(1), record(2), record(3)], closed: true });
  const batches: number[][] = [];
  const p = poller(fake, batches);
  await p.start();
  await p.drained();
  expect(batches).toEqual([[1, 2], [3], [4, 5]]);
  const firstChildRead = fake.calls.findIndex((c) => c.startsWith('records child'));
  const lastParentRead = fake.calls.indexOf('records parent 3');
  expect(firstChildRead).toBeGreaterThan(lastParentRead);

  // The child closes and splits; the grandchild starts at its beginning.
  const child = fake.shards[0] as FakeShard;
  child.records.push(record(6));
  child.closed = true;
  fake.shards.push({ id: 'grandchild', parent: 'child', records: [record(7)], closed: false });
  await p.drained();
  expect(batches).toEqual([[1, 2], [3], [4, 5], [6], [7]]);
  expect(fake.calls).toContain('iterator grandchild TRIM_HORIZON');
});

test('an expired iterator is re-acquired after the last handled record, without loss or repeat', async () => {
  const fake = new FakeStreams();
  fake.shards.push({ id: 's', records: [record(1), record(2), record(3)], closed: false });
  const batches: number[][] = [];
  const p = poller(fake, batches);
  await p.start();
  await p.drained();
  fake.shards[0]?.records.push(record(4));
  fake.expireNextGetRecords = true;
  await p.drained();
  expect(batches).toEqual([[1, 2], [3], [4]]);
  expect(fake.calls).toContain('iterator s AFTER_SEQUENCE_NUMBER 3');
});

test('LATEST at start skips closed shards and the past of open ones; records arrive in the Lambda shape', async () => {
  const fake = new FakeStreams();
  fake.shards.push({ id: 'old', records: [record(1)], closed: true });
  fake.shards.push({ id: 'open', parent: 'old', records: [record(2)], closed: false });
  const events: DynamoDBStreamEvent[] = [];
  const p = new StreamPoller({
    streamArn: ARN,
    clients: { dynamodb: { send: async () => ({}) } as never, streams: fake as never },
    handler: async (event: DynamoDBStreamEvent) => {
      events.push(event);
    },
    startingPosition: 'LATEST',
    pollIntervalMs: 5,
    log: silent,
  });
  pollers.push(p);
  await p.start();
  fake.shards[1]?.records.push(record(3));
  await p.drained();
  expect(events.flatMap((e) => e.Records.map((r) => Number(r.dynamodb?.SequenceNumber)))).toEqual([3]);
  expect(events[0]?.Records[0]).toEqual({
    eventID: 'e3',
    eventName: 'INSERT',
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'ddblocal',
    eventSourceARN: ARN,
    dynamodb: {
      ApproximateCreationDateTime: 1_700_000_000,
      Keys: { PK: { S: 'K#3' }, SK: { S: 'META' } },
      NewImage: { PK: { S: 'K#3' }, SK: { S: 'META' }, bin: { B: 'AQID' } },
      SequenceNumber: seq(3),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    },
  });
});
