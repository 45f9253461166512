/**
 * The local Lambda event source mapping for a DynamoDB stream: reads the DynamoDB Local stream of
 * a table shard by shard (parents before children, record order kept per shard), and calls a
 * Lambda-shaped handler with the DynamoDB stream event, in batches. It honours partial batch
 * responses (`batchItemFailures` naming records by sequence number) by re-delivering from the
 * first failed record, with a bounded number of retries per record; a record past that bound is
 * logged and skipped, the local stand-in for the on-failure destination (DLQ).
 */

import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  type DynamoDBStreamsClientConfig,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamsRecord,
  type AttributeValue as StreamsValue,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  AttributeValue as LambdaValue,
} from 'aws-lambda';
import { dynamoClientConfig } from '../../shared/adapters/compose';
import type { Logger } from '../../shared/api/errors';
import { jsonLogger } from '../../shared/log/json-logger';
import { localLambdaContext } from './lambda-context';

/**
 * A Lambda handler for DynamoDB stream events (the dispatch handler, or any test handler); it may
 * return a partial batch response (DynamoDBBatchResponse), anything else means success.
 */
export type StreamLambda = (event: DynamoDBStreamEvent, context: Context) => Promise<unknown>;

/** What the poller needs from the two SDK clients (real clients, or stand-ins in tests). */
export interface StreamClients {
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  readonly streams: Pick<DynamoDBStreamsClient, 'send'>;
}

/** Options of the stream poller. */
export interface StreamPollerOptions {
  readonly handler: StreamLambda;
  /** The table whose LatestStreamArn is read (or give `streamArn`). */
  readonly tableName?: string;
  readonly streamArn?: string;
  /** DynamoDB Local endpoint; the fake credentials and region of dynamoClientConfig are used. */
  readonly endpoint?: string;
  readonly region?: string;
  /** Ready clients instead of `endpoint` (they are not destroyed by stop()). */
  readonly clients?: StreamClients;
  /** Records per handler call, 1-1000 (default 100, like the Lambda event source mapping). */
  readonly batchSize?: number;
  /** Pause between polls when the stream has nothing new (default 200 ms). */
  readonly pollIntervalMs?: number;
  /** Where to start in the shards that exist at start() (default TRIM_HORIZON); later shards start at their beginning. */
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** Re-deliveries of a failing record before it is skipped (default 3). */
  readonly maxRetries?: number;
  /** Pause before the first re-delivery, doubled for each further one up to 5 s (default 200 ms). */
  readonly retryDelayMs?: number;
  /** Function name in the Lambda context (default `xos-dispatch`). */
  readonly functionName?: string;
  /** Called for each record skipped after its retries (the DLQ stand-in). */
  readonly onDiscard?: (record: DynamoDBRecord, reason: string) => void;
  readonly log?: Logger;
}

/** Counters of a poller. */
export interface StreamPollerStats {
  /** Handler invocations. */
  readonly batches: number;
  /** Records delivered, re-deliveries included. */
  readonly records: number;
  /** Records delivered again after a failure. */
  readonly redelivered: number;
  /** Records skipped after their retries. */
  readonly discarded: number;
  /** Failed stream reads (logged and retried). */
  readonly readErrors: number;
}

interface ShardState {
  readonly id: string;
  readonly parentId?: string;
  /** GetShardIterator position to use when there is no iterator. */
  position: 'TRIM_HORIZON' | 'LATEST';
  iterator?: string;
  /** The shard is closed and every record was read. */
  exhausted: boolean;
  /** Exhausted and every record handled: children may start. */
  finished: boolean;
  /** Read, not yet handled (a retry starts from its head). */
  buffer: DynamoDBRecord[];
  /** Sequence number of the last record handled (or skipped). */
  lastSequence?: string;
  /** The record at the head of the buffer that failed, and how many times. */
  failing?: { sequence: string; attempts: number };
  notBefore: number;
}

type PollResult = 'busy' | 'waiting' | 'quiet';

const MAX_RETRY_DELAY_MS = 5_000;

/** Polls one table's stream and feeds a handler, like a Lambda event source mapping. */
export class StreamPoller {
  private readonly handler: StreamLambda;
  private readonly clients: StreamClients;
  private readonly ownsClients: boolean;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly maxRetries: number;
  private readonly retryDelayMs: number;
  private readonly log: Logger;
  private readonly shards = new Map<string, ShardState>();
  private readonly drainWaiters: Array<{ after: number; resolve: () => void; reject: (e: Error) => void }> = [];
  private arn: string | undefined;
  private loopDone: Promise<void> | undefined;
  private stopping = false;
  private started = false;
  private pass = 0;
  private wake: (() => void) | undefined;
  private counters = { batches: 0, records: 0, redelivered: 0, discarded: 0, readErrors: 0 };

  constructor(private readonly options: StreamPollerOptions) {
    if (!options.tableName && !options.streamArn) throw new Error('StreamPoller needs tableName or streamArn');
    this.handler = options.handler;
    this.batchSize = Math.min(1000, Math.max(1, options.batchSize ?? 100));
    this.pollIntervalMs = Math.max(1, options.pollIntervalMs ?? 200);
    this.maxRetries = Math.max(0, options.maxRetries ?? 3);
    this.retryDelayMs = Math.max(0, options.retryDelayMs ?? 200);
    this.log = options.log ?? jsonLogger('xos-stream-poller');
    this.arn = options.streamArn;
    if (options.clients) {
      this.clients = options.clients;
      this.ownsClients = false;
    } else {
      const config = dynamoClientConfig(options.endpoint, options.region);
      this.clients = {
        dynamodb: new DynamoDBClient(config),
        streams: new DynamoDBStreamsClient(config as DynamoDBStreamsClientConfig),
      };
      this.ownsClients = true;
    }
  }

  /** The stream read (known after start()). */
  get streamArn(): string | undefined {
    return this.arn;
  }

  /**
   * Find the stream and its shards and begin polling. Resolves once the starting positions are
   * fixed, so a write made after start() resolves is delivered even with LATEST.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('StreamPoller already started');
    this.started = true;
    if (!this.arn) {
      const table = await this.clients.dynamodb.send(new DescribeTableCommand({ TableName: this.options.tableName }));
      this.arn = table.Table?.LatestStreamArn;
      if (!this.arn) throw new Error(`table ${this.options.tableName} has no stream`);
    }
    await this.refreshShards(this.options.startingPosition ?? 'TRIM_HORIZON');
    if (this.options.startingPosition === 'LATEST') {
      // Pin LATEST now: an iterator taken later would skip what was written in between.
      for (const shard of this.shards.values()) if (!shard.finished) await this.ensureIterator(shard);
    }
    this.loopDone = this.loop();
  }

  /** Stop polling; resolves after the batch in flight (if any) has been handled. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loopDone;
    for (const w of this.drainWaiters.splice(0)) w.reject(new Error('stream poller stopped'));
    if (this.ownsClients) {
      (this.clients.dynamodb as DynamoDBClient).destroy();
      (this.clients.streams as DynamoDBStreamsClient).destroy();
    }
  }

  /**
   * Resolves once a complete pass over the stream, begun after this call, found nothing to
   * deliver and no record waiting for a retry: everything written before the call has been
   * handled (or skipped). Rejects after `timeoutMs` or when the poller stops.
   */
  drained(timeoutMs = 30_000): Promise<void> {
    if (!this.loopDone || this.stopping) return Promise.reject(new Error('stream poller is not running'));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.drainWaiters.indexOf(waiter);
        if (i >= 0) this.drainWaiters.splice(i, 1);
        reject(new Error(`stream not drained within ${timeoutMs} ms (${JSON.stringify(this.stats())})`));
      }, timeoutMs);
      const waiter = {
        after: this.pass,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.drainWaiters.push(waiter);
      this.wake?.();
    });
  }

  /** Counters since start. */
  stats(): StreamPollerStats {
    return { ...this.counters };
  }

  private async loop(): Promise<void> {
    let failures = 0; // consecutive failed passes: back off while DynamoDB Local is unreachable
    while (!this.stopping) {
      const pass = ++this.pass;
      let result: PollResult = 'waiting';
      try {
        const changed = await this.refreshShards('TRIM_HORIZON');
        const results = await Promise.all([...this.shards.values()].map((s) => this.pollShard(s)));
        result = changed || results.includes('busy') ? 'busy' : results.includes('waiting') ? 'waiting' : 'quiet';
        failures = 0;
      } catch (err) {
        this.counters.readErrors++;
        failures++;
        this.log.error('stream read failed', { stream: this.arn, error: errorText(err), failures });
      }
      if (result === 'quiet') {
        for (const w of this.drainWaiters.filter((d) => d.after < pass)) {
          this.drainWaiters.splice(this.drainWaiters.indexOf(w), 1);
          w.resolve();
        }
      }
      if (result !== 'busy' && !this.stopping)
        await this.sleep(
          failures > 0
            ? Math.min(MAX_RETRY_DELAY_MS, this.pollIntervalMs * 2 ** Math.min(failures, 10))
            : this.nextPollDelay(),
        );
    }
  }

  private nextPollDelay(): number {
    let delay = this.pollIntervalMs;
    for (const s of this.shards.values()) if (s.buffer.length > 0) delay = Math.min(delay, s.notBefore - Date.now());
    return Math.max(0, delay);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  /** Learn new shards; returns true when the set changed. */
  private async refreshShards(position: 'TRIM_HORIZON' | 'LATEST'): Promise<boolean> {
    const seen = new Set<string>();
    let changed = false;
    let exclusiveStartShardId: string | undefined;
    do {
      const out = await this.clients.streams.send(
        new DescribeStreamCommand({ StreamArn: this.arn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      for (const shard of out.StreamDescription?.Shards ?? []) {
        if (!shard.ShardId) continue;
        seen.add(shard.ShardId);
        if (this.shards.has(shard.ShardId)) continue;
        const closed = shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
        // With LATEST, shards already closed at start hold only the past.
        const skip = position === 'LATEST' && closed;
        this.shards.set(shard.ShardId, {
          id: shard.ShardId,
          parentId: shard.ParentShardId,
          position,
          exhausted: skip,
          finished: skip,
          buffer: [],
          notBefore: 0,
        });
        changed = true;
      }
      exclusiveStartShardId = out.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId);
    // Shards trimmed from the stream (24 h) are forgotten once finished.
    for (const [id, s] of this.shards) if (s.finished && !seen.has(id)) this.shards.delete(id);
    return changed;
  }

  private async ensureIterator(shard: ShardState): Promise<void> {
    if (shard.iterator) return;
    const out = await this.clients.streams.send(
      new GetShardIteratorCommand(
        shard.lastSequence
          ? {
              StreamArn: this.arn,
              ShardId: shard.id,
              ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
              SequenceNumber: shard.lastSequence,
            }
          : { StreamArn: this.arn, ShardId: shard.id, ShardIteratorType: shard.position },
      ),
    );
    shard.iterator = out.ShardIterator;
    if (!shard.iterator) shard.exhausted = true;
  }

  private async pollShard(shard: ShardState): Promise<PollResult> {
    if (shard.finished) return 'quiet';
    const parent = shard.parentId ? this.shards.get(shard.parentId) : undefined;
    if (parent && !parent.finished) return 'waiting';
    if (shard.buffer.length === 0) {
      if (shard.exhausted) {
        shard.finished = true;
        return 'busy';
      }
      await this.ensureIterator(shard);
      if (!shard.iterator) return 'busy';
      let out: { Records?: StreamsRecord[]; NextShardIterator?: string };
      try {
        out = await this.clients.streams.send(
          new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: this.batchSize }),
        );
      } catch (err) {
        const name = (err as { name?: string })?.name;
        if (name === 'ExpiredIteratorException' || name === 'TrimmedDataAccessException') {
          shard.iterator = undefined; // re-acquired after the last handled record
          return 'busy';
        }
        throw err;
      }
      shard.iterator = out.NextShardIterator;
      if (!shard.iterator) shard.exhausted = true;
      shard.buffer = (out.Records ?? []).map((r) => toLambdaRecord(r, this.arn as string));
      if (shard.buffer.length === 0) return shard.exhausted ? 'busy' : 'quiet';
    }
    if (Date.now() < shard.notBefore) return 'waiting';
    await this.deliver(shard);
    return 'busy';
  }

  /** Hand the shard's buffer to the handler; keep what must be re-delivered. */
  private async deliver(shard: ShardState): Promise<void> {
    const batch = shard.buffer;
    const retry = shard.failing !== undefined && shard.failing.sequence === sequenceOf(batch[0]);
    this.counters.batches++;
    this.counters.records += batch.length;
    if (retry) this.counters.redelivered += batch.length;
    let failedAt = -1;
    let reason = '';
    try {
      const response = await this.handler(
        { Records: batch },
        localLambdaContext(this.options.functionName ?? 'xos-dispatch', { timeoutMs: 300_000 }),
      );
      failedAt = firstFailure(batch, response);
      reason = 'reported in batchItemFailures';
    } catch (err) {
      failedAt = 0;
      reason = `handler threw ${errorText(err)}`;
    }
    if (failedAt < 0) {
      shard.lastSequence = sequenceOf(batch.at(-1)) ?? shard.lastSequence;
      shard.buffer = [];
      shard.failing = undefined;
      return;
    }
    if (failedAt > 0) shard.lastSequence = sequenceOf(batch[failedAt - 1]);
    const record = batch[failedAt] as DynamoDBRecord;
    const sequence = sequenceOf(record) ?? '';
    const attempts = shard.failing?.sequence === sequence ? shard.failing.attempts + 1 : 1;
    if (attempts > this.maxRetries) {
      this.counters.discarded++;
      this.log.error('stream record skipped after retries', {
        eventId: record.eventID,
        sequence,
        keys: keysOf(record),
        attempts,
        reason,
      });
      this.options.onDiscard?.(record, reason);
      shard.lastSequence = sequence;
      shard.buffer = batch.slice(failedAt + 1);
      shard.failing = undefined;
      shard.notBefore = 0;
      return;
    }
    this.log.error('stream batch failed; will re-deliver', { eventId: record.eventID, sequence, attempts, reason });
    shard.buffer = batch.slice(failedAt);
    shard.failing = { sequence, attempts };
    shard.notBefore = Date.now() + Math.min(MAX_RETRY_DELAY_MS, this.retryDelayMs * 2 ** (attempts - 1));
  }
}

/**
 * Index of the first failed record of a partial batch response, -1 for success. As Lambda does,
 * an empty, null or unknown itemIdentifier fails the whole batch.
 */
export function firstFailure(batch: readonly DynamoDBRecord[], response: unknown): number {
  const failures = (response as Partial<DynamoDBBatchResponse> | null | undefined)?.batchItemFailures;
  if (!Array.isArray(failures) || failures.length === 0) return -1;
  let first = Number.POSITIVE_INFINITY;
  for (const f of failures) {
    const i = f?.itemIdentifier ? batch.findIndex((r) => sequenceOf(r) === f.itemIdentifier) : -1;
    if (i < 0) return 0;
    first = Math.min(first, i);
  }
  return first;
}

/** A DynamoDB Streams record in the shape Lambda delivers it (epoch seconds, base64 binaries). */
export function toLambdaRecord(record: StreamsRecord, streamArn: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(d.ApproximateCreationDateTime && {
        ApproximateCreationDateTime: Math.floor(new Date(d.ApproximateCreationDateTime).getTime() / 1000),
      }),
      ...(d.Keys && { Keys: lambdaImage(d.Keys) }),
      ...(d.NewImage && { NewImage: lambdaImage(d.NewImage) }),
      ...(d.OldImage && { OldImage: lambdaImage(d.OldImage) }),
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    },
    ...(record.userIdentity && { userIdentity: record.userIdentity }),
  };
}

function lambdaImage(image: Record<string, StreamsValue>): Record<string, LambdaValue> {
  const out: Record<string, LambdaValue> = {};
  for (const [k, v] of Object.entries(image)) out[k] = lambdaValue(v);
  return out;
}

function lambdaValue(v: StreamsValue): LambdaValue {
  // DynamoDB Local (3.3.0) writes an empty map as `{}` in stream images, where DynamoDB writes
  // `{"M":{}}`; an attribute value without a type can only be that.
  if (Object.keys(v).length === 0) return { M: {} };
  if (v.B !== undefined) return { B: Buffer.from(v.B).toString('base64') };
  if (v.BS !== undefined) return { BS: v.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (v.M !== undefined) return { M: lambdaImage(v.M) };
  if (v.L !== undefined) return { L: v.L.map(lambdaValue) };
  return v as LambdaValue;
}

function sequenceOf(record: DynamoDBRecord | undefined): string | undefined {
  return record?.dynamodb?.SequenceNumber;
}

function keysOf(record: DynamoDBRecord): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(record.dynamodb?.Keys ?? {})) out[k] = v.S ?? v.N;
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
