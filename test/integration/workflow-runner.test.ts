// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} are ASL definition placeholders, not templates
/**
 * LocalWorkflows against the real ASL interpreter (aws-local-stepfunctions): a small state machine
 * of our own with Task/Choice/Wait/Retry/Catch/Fail and `${...}` placeholders.
 */
import type { Context } from 'aws-lambda';
import { type LocalLambdaHandler, LocalWorkflows, type LocalWorkflowsOptions } from '../../infra/local/workflow-runner';
import type { Logger } from '../../shared/api/errors';

const LOAD_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:xos-test-load';
const RECORD_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:xos-test-record';

const DEFINITION = {
  Comment: 'test machine',
  StartAt: 'Load',
  States: {
    Load: {
      Type: 'Task',
      Resource: '${LoadFunctionArn}',
      ResultPath: '$.loaded',
      Retry: [{ ErrorEquals: ['Flaky'], IntervalSeconds: 2, BackoffRate: 2, MaxAttempts: 3 }],
      Catch: [{ ErrorEquals: ['Terminal'], ResultPath: '$.error', Next: 'RecordFailure' }],
      Next: 'Settled?',
    },
    'Settled?': {
      Type: 'Choice',
      Choices: [{ Variable: '$.loaded.settled', BooleanEquals: false, Next: 'Settle' }],
      Default: 'Record',
    },
    Settle: { Type: 'Wait', Seconds: 3, Next: 'Record' },
    Record: {
      Type: 'Task',
      Resource: '${RecordFunctionArn}',
      Parameters: { 'id.$': '$.id', 'loaded.$': '$.loaded', 'execution.$': '$$.Execution.Name' },
      End: true,
    },
    RecordFailure: {
      Type: 'Task',
      Resource: '${RecordFunctionArn}',
      Parameters: { 'id.$': '$.id', 'error.$': '$.error' },
      ResultPath: null,
      Next: 'Failed',
    },
    Failed: { Type: 'Fail', Error: 'SyncFailed', Cause: 'the back-end refused' },
  },
};

class Flaky extends Error {
  override name = 'Flaky';
}
class Terminal extends Error {
  override name = 'Terminal';
}

/** Calls per id, and a gate per id to hold a handler until released. */
function harness() {
  const calls: Array<{ fn: string; event: unknown; context: Context; at: number }> = [];
  const gates = new Map<string, Promise<void>>();
  let concurrent = 0;
  let maxConcurrent = 0;
  const load: LocalLambdaHandler = async (event, context) => {
    const e = event as { id: string };
    calls.push({ fn: 'load', event, context, at: Date.now() });
    concurrent++;
    maxConcurrent = Math.max(maxConcurrent, concurrent);
    try {
      await gates.get(e.id);
      const mine = calls.filter((c) => c.fn === 'load' && (c.event as { id: string }).id === e.id).length;
      if (e.id.startsWith('flaky') && mine <= 2) throw new Flaky(`attempt ${mine} failed`);
      if (e.id.startsWith('always-flaky')) throw new Flaky('again');
      if (e.id.startsWith('terminal')) throw new Terminal('quota exceeded');
      if (e.id.startsWith('bug')) throw new TypeError('cannot read properties of undefined');
      return { settled: !e.id.startsWith('slow'), attempt: mine };
    } finally {
      concurrent--;
    }
  };
  const record: LocalLambdaHandler = async (event, context) => {
    calls.push({ fn: 'record', event, context, at: Date.now() });
    return { recorded: true, event };
  };
  return { calls, gates, load, record, maxConcurrent: () => maxConcurrent };
}

const logs: string[] = [];
const log: Logger = {
  error: (message, detail) => logs.push(JSON.stringify({ level: 'ERROR', message, ...detail })),
  info: (message, detail) => logs.push(JSON.stringify({ level: 'INFO', message, ...detail })),
};

const runners: LocalWorkflows[] = [];
function runner(h: ReturnType<typeof harness>, extra: Partial<LocalWorkflowsOptions> = {}): LocalWorkflows {
  const r = new LocalWorkflows({
    definition: DEFINITION,
    substitutions: { LoadFunctionArn: LOAD_ARN, RecordFunctionArn: RECORD_ARN },
    handlers: { [LOAD_ARN]: h.load, 'xos-test-record': h.record },
    timeScale: 0.01,
    log,
    ...extra,
  });
  runners.push(r);
  return r;
}
/** Run before stopping runners: release handlers a failed test left blocked. */
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

const input = (id: string) => ({ kind: 'Site', id, version: 1, reason: 'stream' as const });

test('start is idempotent by name, runs after start() returns, and records output', async () => {
  const h = harness();
  const wf = runner(h);
  expect(await wf.start('Site-a-v1', input('a'))).toBe('started');
  expect(h.calls).toHaveLength(0); // asynchronous, like StartExecution
  expect(wf.running()).toBe(1);
  expect(await wf.start('Site-a-v1', input('a'))).toBe('exists');
  await wf.idle();
  expect(await wf.start('Site-a-v1', input('a'))).toBe('exists');
  await wf.idle();

  const exec = wf.describe('Site-a-v1');
  expect(exec).toMatchObject({
    name: 'Site-a-v1',
    status: 'SUCCEEDED',
    executionArn: 'arn:aws:states:us-east-1:000000000000:execution:xos-reconcile:Site-a-v1',
    input: input('a'),
    output: { recorded: true, event: { id: 'a', loaded: { settled: true, attempt: 1 }, execution: 'Site-a-v1' } },
  });
  expect(exec?.stopDate?.getTime()).toBeGreaterThanOrEqual(exec?.startDate.getTime() ?? Infinity);
  expect(wf.describe(exec?.executionArn ?? '')?.name).toBe('Site-a-v1');
  expect(h.calls.map((c) => c.fn)).toEqual(['load', 'record']);
  // Each handler gets a Lambda context naming its function.
  expect(h.calls[0]?.context.invokedFunctionArn).toBe(LOAD_ARN);
  expect(h.calls[1]?.context.functionName).toBe('xos-test-record');
  expect(h.calls[0]?.context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  expect(exec?.history.map((e) => e.type)).toEqual([
    'ExecutionStarted',
    'StateEntered',
    'StateExited',
    'StateEntered',
    'StateExited',
    'StateEntered',
    'StateExited',
    'ExecutionSucceeded',
  ]);
  expect(wf.running()).toBe(0);
});

test('retries with backoff: a handler failing twice with a custom error succeeds on the third call', async () => {
  const h = harness();
  const wf = runner(h); // IntervalSeconds 2 x 0.01 = 20 ms, then 40 ms
  await wf.start('Site-flaky-v1', input('flaky'));
  await wf.idle();
  const exec = wf.describe('Site-flaky-v1');
  expect(exec?.status).toBe('SUCCEEDED');
  expect((exec?.output as { event: { loaded: unknown } } | undefined)?.event.loaded).toEqual({
    settled: true,
    attempt: 3,
  });
  const loads = h.calls.filter((c) => c.fn === 'load').map((c) => c.at);
  expect(loads).toHaveLength(3);
  const [first = 0, second = 0, third = 0] = loads;
  expect(second - first).toBeGreaterThanOrEqual(18);
  expect(third - second).toBeGreaterThanOrEqual(38);
  const retried = exec?.history.filter((e) => e.type === 'StateRetried') ?? [];
  expect(retried.map((e) => [e.state, e.retryAttempt])).toEqual([
    ['Load', 1],
    ['Load', 2],
  ]);
  const failed = exec?.history.filter((e) => e.type === 'StateFailed') ?? [];
  expect(failed.map((e) => e.error)).toEqual(['Flaky', 'Flaky']);
  // The cause is what Step Functions gives for a Lambda error: the runtime's JSON.
  expect(JSON.parse(failed[0]?.cause ?? '{}')).toMatchObject({ errorType: 'Flaky', errorMessage: 'attempt 1 failed' });
});

test('retries exhausted: the execution fails with the error and the Lambda-style cause', async () => {
  const h = harness();
  const wf = runner(h, { retryIntervalOverrides: { Load: 1 } });
  await wf.start('Site-always-flaky-v1', input('always-flaky'));
  await wf.idle();
  const exec = wf.describe('Site-always-flaky-v1');
  expect(exec?.status).toBe('FAILED');
  expect(exec?.error).toBe('Flaky');
  expect(JSON.parse(exec?.cause ?? '{}')).toMatchObject({ errorType: 'Flaky', errorMessage: 'again' });
  expect(h.calls.filter((c) => c.fn === 'load')).toHaveLength(4); // 1 + MaxAttempts 3
  expect(logs.some((l) => l.includes('"execution":"Site-always-flaky-v1"') && l.includes('"status":"FAILED"'))).toBe(
    true,
  );
});

test('Catch routes a terminal error to its handler state, then the Fail state ends the execution', async () => {
  const h = harness();
  const wf = runner(h);
  await wf.start('Site-terminal-v1', input('terminal'));
  await wf.idle();
  const exec = wf.describe('Site-terminal-v1');
  expect(exec).toMatchObject({ status: 'FAILED', error: 'SyncFailed', cause: 'the back-end refused' });
  expect(h.calls.filter((c) => c.fn === 'load')).toHaveLength(1); // not retried: only Flaky is
  const recorded = h.calls.find((c) => c.fn === 'record')?.event as {
    id: string;
    error: { Error: string; Cause: string };
  };
  expect(recorded.id).toBe('terminal');
  expect(recorded.error.Error).toBe('Terminal');
  expect(JSON.parse(recorded.error.Cause)).toMatchObject({ errorType: 'Terminal', errorMessage: 'quota exceeded' });
  expect(exec?.history.some((e) => e.type === 'StateCaught' && e.state === 'Load')).toBe(true);
});

test('an error no Retry or Catch names fails the execution at once', async () => {
  const h = harness();
  const wf = runner(h);
  await wf.start('Site-bug-v1', input('bug'));
  await wf.idle();
  expect(wf.describe('Site-bug-v1')).toMatchObject({ status: 'FAILED', error: 'TypeError' });
  expect(h.calls.map((c) => c.fn)).toEqual(['load']);
});

test('Choice and Wait: the unsettled path waits (scaled), then records', async () => {
  const h = harness();
  const wf = runner(h); // Wait 3 s x 0.01 = 30 ms
  await wf.start('Site-slow-v1', input('slow'));
  await wf.idle();
  const exec = wf.describe('Site-slow-v1');
  expect(exec?.status).toBe('SUCCEEDED');
  const entered = exec?.history.filter((e) => e.type === 'StateEntered').map((e) => e.state);
  expect(entered).toEqual(['Load', 'Settled?', 'Settle', 'Record']);
  const [load, record] = h.calls.map((c) => c.at);
  expect((record ?? 0) - (load ?? 0)).toBeGreaterThanOrEqual(28);
});

test('concurrency is bounded; later starts wait as RUNNING; idle() waits for all', async () => {
  const h = harness();
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const ids = ['c1', 'c2', 'c3', 'c4', 'c5'];
  for (const id of ids) h.gates.set(id, gate);
  const wf = runner(h, { concurrency: 2 });
  for (const id of ids) await wf.start(`Site-${id}-v1`, input(id));
  await new Promise((r) => setTimeout(r, 50));
  expect(wf.running()).toBe(5);
  expect(wf.queued()).toBe(3);
  expect(h.calls).toHaveLength(2);
  let idle = false;
  const waiting = wf.idle().then(() => {
    idle = true;
  });
  await new Promise((r) => setTimeout(r, 20));
  expect(idle).toBe(false);
  release();
  await waiting;
  expect(h.maxConcurrent()).toBe(2);
  expect(wf.list({ status: 'SUCCEEDED' }).map((e) => e.name)).toEqual(ids.map((id) => `Site-${id}-v1`));
  expect(wf.running()).toBe(0);
});

test('stop() aborts at once (a crash): no state runs afterwards, not even a pending retry', async () => {
  const h = harness();
  let release!: () => void;
  h.gates.set('held', new Promise<void>((r) => (release = r)));
  // always-flaky waits 10 s before its first retry; held is blocked inside its handler.
  const wf = runner(h, { timeScale: 5, concurrency: 2 });
  cleanups.push(() => release());
  await wf.start('Site-always-flaky-v1', input('always-flaky'));
  await wf.start('Site-held-v1', input('held'));
  await wf.start('Site-queued-v1', input('queued'));
  await new Promise((r) => setTimeout(r, 50));
  expect(h.calls.filter((c) => c.fn === 'load')).toHaveLength(2);
  expect(wf.queued()).toBe(1);
  const stopped = wf.stop();
  expect(wf.list().map((e) => e.status)).toEqual(['ABORTED', 'ABORTED', 'ABORTED']);
  expect(wf.running()).toBe(0);
  await wf.idle();
  await expect(wf.start('Site-new-v1', input('new'))).rejects.toMatchObject({ name: 'RunnerStopped' });
  let done = false;
  void stopped.then(() => {
    done = true;
  });
  await new Promise((r) => setTimeout(r, 20));
  expect(done).toBe(false); // the held handler is still in flight
  release();
  await stopped;
  await new Promise((r) => setTimeout(r, 100));
  // Neither the retry of always-flaky nor held's next state ran.
  expect(h.calls.map((c) => c.fn)).toEqual(['load', 'load']);
  expect(wf.describe('Site-held-v1')?.status).toBe('ABORTED');
  expect(wf.describe('Site-queued-v1')?.stopDate).toBeDefined();
});

test('names follow the Step Functions rules', async () => {
  const wf = runner(harness());
  await expect(wf.start('', input('x'))).rejects.toMatchObject({ name: 'InvalidName' });
  await expect(wf.start('a b', input('x'))).rejects.toMatchObject({ name: 'InvalidName' });
  await expect(wf.start('Site/x', input('x'))).rejects.toMatchObject({ name: 'InvalidName' });
  await expect(wf.start('x'.repeat(81), input('x'))).rejects.toMatchObject({ name: 'InvalidName' });
  expect(await wf.start(`ControllerSlicePrivilege-01J00000000000000000000000-v12345-wake`, input('x'))).toBe('started');
});

test('construction fails on a Task without a handler, or a missing substitution', () => {
  const h = harness();
  expect(
    () =>
      new LocalWorkflows({
        definition: DEFINITION,
        substitutions: { LoadFunctionArn: LOAD_ARN, RecordFunctionArn: RECORD_ARN },
        handlers: { [LOAD_ARN]: h.load },
      }),
  ).toThrow(/no local handler for Task state "Record"/);
  expect(
    () =>
      new LocalWorkflows({
        definition: DEFINITION,
        substitutions: { LoadFunctionArn: LOAD_ARN },
        handlers: { [LOAD_ARN]: h.load },
      }),
  ).toThrow(/RecordFunctionArn/);
});

test('lambda:invoke integration: handler by FunctionName gets Payload, result wrapped', async () => {
  const seen: unknown[] = [];
  const wf = new LocalWorkflows({
    definition: {
      StartAt: 'Invoke',
      States: {
        Invoke: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: '${Fn}', 'Payload.$': '$' },
          OutputPath: '$.Payload',
          End: true,
        },
      },
    },
    substitutions: { Fn: LOAD_ARN },
    handlers: {
      'xos-test-load': async (event) => {
        seen.push(event);
        return { ok: true };
      },
    },
    log,
  });
  runners.push(wf);
  await wf.startExecution('inv-1', { a: 1 });
  await wf.idle();
  expect(seen).toEqual([{ a: 1 }]);
  expect(wf.describe('inv-1')).toMatchObject({ status: 'SUCCEEDED', output: { ok: true } });
});

test('ResultPath "$" replaces the input, in a state and in a catcher (the library alone would add a "$" key)', async () => {
  const wf = new LocalWorkflows({
    definition: {
      StartAt: 'Ok',
      States: {
        Ok: { Type: 'Task', Resource: '${Fn}', ResultPath: '$', Next: 'Boom' },
        Boom: {
          Type: 'Task',
          Resource: '${Fn}',
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$', Next: 'Done' }],
          Next: 'Done',
        },
        Done: { Type: 'Pass', End: true },
      },
    },
    substitutions: { Fn: LOAD_ARN },
    handlers: {
      [LOAD_ARN]: async (event) => {
        if ((event as { step?: number }).step === 1) throw new Terminal('no');
        return { step: 1 };
      },
    },
    log,
  });
  runners.push(wf);
  await wf.startExecution('rp-1', { a: 1 });
  await wf.idle();
  const out = wf.describe('rp-1')?.output as Record<string, unknown>;
  expect(Object.keys(out).sort()).toEqual(['Cause', 'Error']);
  expect(out.Error).toBe('Terminal');
});
