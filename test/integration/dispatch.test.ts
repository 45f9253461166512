// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} are ASL definition placeholders, not templates
/**
 * The dispatch handler fed by the real stream poller over a real API stack: one start per
 * (object, version); duplicates collapse; feedback-only writes start nothing; failed starts are
 * reported by sequence number and re-delivered.
 */
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { makeDispatchHandler } from '../../functions/dispatch/handler';
import { type StreamLambda, StreamPoller } from '../../infra/local/stream-poller';
import { LocalWorkflows } from '../../infra/local/workflow-runner';
import type { Logger } from '../../shared/api/errors';
import type { ExecutionInput, WorkflowStarter } from '../../shared/sync/contract';
import { startTestStack, type TestStack, testEndpoint } from '../helpers/stack';

/** A starter that behaves like Step Functions names: a second start of a name is 'exists'. */
class RecordingStarter implements WorkflowStarter {
  readonly calls: Array<{ name: string; input: ExecutionInput; outcome: string }> = [];
  readonly names = new Set<string>();
  /** Fail the first start this matches, once (like a throttled StartExecution). */
  failNext: ((name: string) => boolean) | undefined;
  async start(name: string, input: ExecutionInput): Promise<'started' | 'exists'> {
    if (this.failNext?.(name)) {
      this.failNext = undefined;
      this.calls.push({ name, input, outcome: 'failed' });
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    }
    const outcome = this.names.has(name) ? 'exists' : 'started';
    this.names.add(name);
    this.calls.push({ name, input, outcome });
    return outcome;
  }
  started(): string[] {
    return this.calls.filter((c) => c.outcome === 'started').map((c) => c.name);
  }
}

let stack: TestStack;
const pollers: StreamPoller[] = [];
const logs: Array<Record<string, unknown>> = [];
const log: Logger = {
  error: (message, detail) => logs.push({ level: 'ERROR', message, ...detail }),
  info: (message, detail) => logs.push({ level: 'INFO', message, ...detail }),
};

beforeAll(async () => {
  stack = await startTestStack();
});
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});
afterAll(async () => stack.close());

function poller(handler: StreamLambda, startingPosition: 'LATEST' | 'TRIM_HORIZON') {
  const p = new StreamPoller({
    endpoint: testEndpoint(),
    tableName: stack.tableName,
    handler,
    startingPosition,
    pollIntervalMs: 50,
    retryDelayMs: 20,
    log,
  });
  pollers.push(p);
  return p;
}

async function siteId(): Promise<string> {
  const sites = await stack.request('GET', '/xosapi/v1/core/sites');
  return sites.body.items[0].id;
}

test('one start per (object, version); feedback, history and resync writes start nothing', async () => {
  const starter = new RecordingStarter();
  const p = poller(
    makeDispatchHandler(() => starter, { log }),
    'LATEST',
  );
  await p.start();

  const created = await stack.request('POST', '/xosapi/v1/core/slices', {
    body: { name: 'dispatch-a', site_id: await siteId() },
  });
  expect(created.status).toBe(201);
  const id = created.body.id as string;
  const patched = await stack.request('PATCH', `/xosapi/v1/core/slices/${id}`, {
    body: { description: 'second version', version: 1 },
  });
  expect(patched.status).toBe(200);
  await p.drained();
  expect(starter.started()).toEqual([`Slice-${id}-v1`, `Slice-${id}-v2`]);
  expect(starter.calls[0]?.input).toEqual({ kind: 'Slice', id, version: 1, reason: 'stream' });

  // Synchronizer feedback (version unchanged), a history entry, an operator resync: nothing.
  const current = await stack.composed.store.get('Slice', id);
  if (!current) throw new Error('slice not stored');
  await stack.composed.store.recordFeedback(current, { backend_status: 'OK', backend_code: 1, enacted_version: 2 });
  await stack.composed.store.appendHistory('Slice', id, {
    time: new Date().toISOString(),
    version: 2,
    step: 'Record',
    outcome: 'ok',
    message: 'enacted',
  });
  expect((await stack.request('POST', `/xosapi/v1/core/slices/${id}/resync`)).status).toBeLessThan(500);
  await p.drained();
  expect(starter.calls).toHaveLength(2);

  // A delete is a new version (soft delete): it starts one more.
  expect((await stack.request('DELETE', `/xosapi/v1/core/slices/${id}`)).status).toBeLessThan(300);
  await p.drained();
  expect(starter.started()).toEqual([`Slice-${id}-v1`, `Slice-${id}-v2`, `Slice-${id}-v3`]);

  const lines = logs.filter((l) => l.message === 'reconcile start' && l.id === id);
  expect(lines.map((l) => [l.kind, l.version, l.execution, l.outcome])).toEqual([
    ['Slice', 1, `Slice-${id}-v1`, 'started'],
    ['Slice', 2, `Slice-${id}-v2`, 'started'],
    ['Slice', 3, `Slice-${id}-v3`, 'started'],
  ]);
  for (const l of lines)
    expect(Object.keys(l).sort()).toEqual(['execution', 'id', 'kind', 'level', 'message', 'outcome', 'version']);
});

test('duplicate records start one execution: replayed stream and duplicates within a batch', async () => {
  const starter = new RecordingStarter();
  const handler = makeDispatchHandler(() => starter, { log });
  const first = poller(handler, 'TRIM_HORIZON');
  await first.start();
  await first.drained();
  const startedOnce = starter.started();
  expect(startedOnce.length).toBeGreaterThan(0); // the bootstrap's objects and earlier tests' writes
  expect(new Set(startedOnce).size).toBe(startedOnce.length);

  // At-least-once: the whole stream delivered again.
  const replay = poller(handler, 'TRIM_HORIZON');
  await replay.start();
  await replay.drained();
  expect(starter.started()).toEqual(startedOnce);
  expect(starter.calls.filter((c) => c.outcome === 'exists')).toHaveLength(startedOnce.length);

  // The same record twice in one batch: one start call.
  const records: DynamoDBRecord[] = [];
  const capture = poller(async (event: DynamoDBStreamEvent) => {
    records.push(...event.Records);
    return { batchItemFailures: [] };
  }, 'LATEST');
  await capture.start();
  const created = await stack.request('POST', '/xosapi/v1/core/slices', {
    body: { name: 'dispatch-dup', site_id: await siteId() },
  });
  await capture.drained();
  const meta = records.find(
    (r) => r.dynamodb?.Keys?.PK?.S === `Slice#${created.body.id}` && r.dynamodb?.Keys?.SK?.S === 'META',
  );
  if (!meta) throw new Error('no META record for the new slice');
  const fresh = new RecordingStarter();
  const out = await makeDispatchHandler(() => fresh, { log })({ Records: [meta, meta, meta] }, {} as never);
  expect(out).toEqual({ batchItemFailures: [] });
  expect(fresh.calls.map((c) => c.name)).toEqual([`Slice-${created.body.id}-v1`]);
});

test('a failed start is reported by sequence number and re-delivered until it starts', async () => {
  const starter = new RecordingStarter();
  const handler = makeDispatchHandler(() => starter, { log });
  const responses: unknown[] = [];
  const sequences: string[][] = [];
  const p = poller(async (event, context) => {
    sequences.push(event.Records.map((r) => r.dynamodb?.SequenceNumber as string));
    const out = await handler(event, context);
    responses.push(out);
    return out;
  }, 'LATEST');
  await p.start();
  starter.failNext = (name) => name.startsWith('Slice-');
  const a = await stack.request('POST', '/xosapi/v1/core/slices', {
    body: { name: 'dispatch-f1', site_id: await siteId() },
  });
  const b = await stack.request('POST', '/xosapi/v1/core/slices', {
    body: { name: 'dispatch-f2', site_id: await siteId() },
  });
  // The first start of a failed; b's start, in the same or a later batch, went on.
  await p.drained();
  const names = starter.calls.map((c) => `${c.name}:${c.outcome}`);
  expect(names.filter((n) => n.startsWith(`Slice-${a.body.id}-v1`))).toEqual([
    `Slice-${a.body.id}-v1:failed`,
    `Slice-${a.body.id}-v1:started`,
  ]);
  expect(starter.started().filter((n) => n === `Slice-${b.body.id}-v1`)).toHaveLength(1);
  const failure = responses.find((r) => (r as { batchItemFailures: unknown[] }).batchItemFailures.length > 0) as {
    batchItemFailures: Array<{ itemIdentifier: string }>;
  };
  expect(failure.batchItemFailures).toHaveLength(1);
  // The identifier is a sequence number of the batch (what Lambda requires), not an eventID.
  expect(sequences.flat()).toContain(failure.batchItemFailures[0]?.itemIdentifier);
  expect(logs.some((l) => l.outcome === 'failed' && l.execution === `Slice-${a.body.id}-v1`)).toBe(true);
});

test('end to end locally: API write -> stream poller -> dispatch -> LocalWorkflows execution', async () => {
  const loads: unknown[] = [];
  const workflows = new LocalWorkflows({
    definition: {
      StartAt: 'Load',
      States: { Load: { Type: 'Task', Resource: '${LoadFunctionArn}', End: true } },
    },
    substitutions: { LoadFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:xos-load' },
    handlers: {
      'xos-load': async (event) => {
        loads.push(event);
        return { loaded: true };
      },
    },
    log,
  });
  try {
    const p = poller(
      makeDispatchHandler(() => workflows, { log }),
      'LATEST',
    );
    await p.start();
    const created = await stack.request('POST', '/xosapi/v1/core/slices', {
      body: { name: 'dispatch-e2e', site_id: await siteId() },
    });
    await p.drained();
    await workflows.idle();
    const name = `Slice-${created.body.id}-v1`;
    expect(workflows.describe(name)).toMatchObject({
      status: 'SUCCEEDED',
      input: { kind: 'Slice', id: created.body.id, version: 1, reason: 'stream' },
      output: { loaded: true },
    });
    expect(loads).toEqual([{ kind: 'Slice', id: created.body.id, version: 1, reason: 'stream' }]);
  } finally {
    await workflows.stop();
  }
});
