/**
 * The dispatch Lambda: DynamoDB stream records in, one reconcile execution per (object, version)
 * out. Writes that did not change `version` (synchronizer feedback) and non-object items start
 * nothing. A record whose start fails is reported in `batchItemFailures`, so Lambda retries from
 * it and, past the retry limit, sends it to the dead-letter queue; the other records go on.
 * The local stream poller calls this same handler with the same event shape.
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { sfnStarterFromEnv } from '../../shared/adapters/sfn/sfn-starter';
import type { Logger } from '../../shared/api/errors';
import { jsonLogger } from '../../shared/log/json-logger';
import {
  changesToStart,
  type ExecutionInput,
  type ObjectChange,
  type WorkflowStarter,
} from '../../shared/sync/contract';
import { observability, observed } from '../observability';

/** Options of the dispatch handler. */
export interface DispatchOptions {
  readonly log?: Logger;
  /** Starts in flight at once within one batch (default 8). */
  readonly concurrency?: number;
}

type Image = Record<string, AttributeValue>;

/** One stream record as the dispatcher sees it; throws on a record without keys or event name. */
export function toObjectChange(record: DynamoDBRecord): ObjectChange {
  const ddb = record.dynamodb;
  const keys = ddb?.Keys ? unmarshall(ddb.Keys as Image) : undefined;
  if (!record.eventID || !record.eventName || typeof keys?.PK !== 'string' || typeof keys.SK !== 'string')
    throw new Error('stream record without eventID, eventName or string PK/SK keys');
  return {
    eventId: record.eventID,
    eventName: record.eventName,
    keys: { PK: keys.PK, SK: keys.SK },
    newImage: ddb?.NewImage ? unmarshall(ddb.NewImage as Image) : undefined,
    oldImage: ddb?.OldImage ? unmarshall(ddb.OldImage as Image) : undefined,
  };
}

/**
 * Build the handler around a lazily made starter (made once per container, at first use).
 * Batch item failures name records by `dynamodb.SequenceNumber`, as Lambda requires for stream
 * sources (an unknown identifier would make Lambda retry the whole batch).
 */
export function makeDispatchHandler(getStarter: () => WorkflowStarter, options: DispatchOptions = {}) {
  const log = options.log ?? jsonLogger('xos-dispatch');
  const concurrency = Math.max(1, options.concurrency ?? 8);
  let starter: WorkflowStarter | undefined;

  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse, Error, Context>().handler(async (event) => {
    starter ??= getStarter();
    const records = event.Records ?? [];
    const itemId = new Map<string, string>();
    const failed = new Set<string>();
    const changes: ObjectChange[] = [];
    for (const record of records) {
      const id = record.dynamodb?.SequenceNumber ?? record.eventID ?? '';
      try {
        const change = toObjectChange(record);
        itemId.set(change.eventId, id);
        changes.push(change);
      } catch (err) {
        failed.add(id);
        log.error('unreadable stream record', { eventId: record.eventID, sequence: id, error: errorText(err) });
      }
    }

    // Duplicate records of one (object, version) in a batch make one start.
    const byName = new Map<string, { input: ExecutionInput; eventIds: string[] }>();
    for (const s of changesToStart(changes)) {
      const entry = byName.get(s.name);
      if (entry) entry.eventIds.push(s.eventId);
      else byName.set(s.name, { input: s.input, eventIds: [s.eventId] });
    }

    const pending = [...byName.entries()];
    const worker = async () => {
      for (let next = pending.shift(); next; next = pending.shift()) {
        const [name, { input, eventIds }] = next;
        const fields = { kind: input.kind, id: input.id, version: input.version, execution: name };
        try {
          const outcome = await (starter as WorkflowStarter).start(name, input);
          log.info('reconcile start', { ...fields, outcome });
        } catch (err) {
          for (const e of eventIds) failed.add(itemId.get(e) ?? e);
          log.error('reconcile start', { ...fields, outcome: 'failed', error: errorText(err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, pending.length) }, worker));

    if (records.length > 0)
      log.info('dispatch batch', { records: records.length, starts: byName.size, failures: failed.size });
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

const o = observability('xos-dispatch');

/** The Lambda handler: the Step Functions starter from the environment (STATE_MACHINE_ARN). */
export const handler = observed(
  makeDispatchHandler(() => sfnStarterFromEnv(), { log: o.log }),
  o,
  (event, result) => ({
    StreamRecords: event.Records?.length ?? 0,
    FailedRecords: result.batchItemFailures?.length ?? 0,
  }),
);
