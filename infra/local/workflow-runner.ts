/**
 * The local Step Functions: runs the project's ASL definitions with `aws-local-stepfunctions`,
 * each Task routed to the same Lambda handler that runs in AWS, behind the WorkflowStarter port.
 * Executions are named and idempotent by name, run asynchronously after start() returns (like
 * StartExecution), are bounded in concurrency, and stay listable with their status, output,
 * error and a compact event history.
 */

import type { Context } from 'aws-lambda';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine } from 'aws-local-stepfunctions';
import type { Logger } from '../../shared/api/errors';
import { jsonLogger } from '../../shared/log/json-logger';
import { type AslDefinition, substituteDefinition, validateDefinition } from '../../shared/sync/asl';
import type { ExecutionInput, WorkflowStarter } from '../../shared/sync/contract';
import { localLambdaContext } from './lambda-context';

installPromiseWithResolvers();

/**
 * aws-local-stepfunctions 3 calls `Promise.withResolvers` (Node 22) in every Task state; Node 20
 * lacks it. The library only calls it while running, after this module has loaded.
 */
function installPromiseWithResolvers(): void {
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers === 'function') return;
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** A Lambda handler as the runner calls it: the event (JSON) and a Lambda context. */
export type LocalLambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** Status of an execution, as DescribeExecution reports it. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

/** One entry of an execution's history (a compact form of the interpreter's event log). */
export interface ExecutionHistoryEvent {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: string;
  readonly error?: string;
  readonly cause?: string;
  /** For StateRetried: how many retries of that retrier had happened before this one. */
  readonly retryAttempt?: number;
}

/** An execution as describe/list return it (a snapshot). */
export interface LocalExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly input: unknown;
  readonly status: ExecutionStatus;
  readonly startDate: Date;
  readonly stopDate?: Date;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly history: readonly ExecutionHistoryEvent[];
}

/** Options of the local runner. */
export interface LocalWorkflowsOptions {
  /** The parsed ASL, with `${Name}` placeholders. */
  readonly definition: AslDefinition;
  /** Placeholder name -> value (DefinitionSubstitutions), e.g. LoadFunctionArn -> a Lambda ARN. */
  readonly substitutions?: Readonly<Record<string, string>>;
  /**
   * Handlers, keyed by the Task's substituted `Resource` (a Lambda function ARN) or by the bare
   * function name of that ARN. For `arn:aws:states:::lambda:invoke` Tasks the key is the
   * `FunctionName` parameter (ARN or name), the handler gets `Payload` and its result is wrapped
   * as `{ ExecutedVersion, Payload, StatusCode }`. A key equal to any other Resource (a service
   * integration) gets the state's effective input and returns its result. Every Task must resolve
   * to a handler, checked at construction.
   */
  readonly handlers: Readonly<Record<string, LocalLambdaHandler>>;
  /** Executions running at once (default 16); later starts wait, still reported RUNNING. */
  readonly concurrency?: number;
  /**
   * Multiplies Retry `IntervalSeconds` (default 1 s when absent) and `MaxDelaySeconds` and Wait
   * `Seconds`, keeping backoff shape (tests: 0.01). Waits given by `SecondsPath`/`Timestamp` are
   * not scaled: use `waitTimeOverrides` for those.
   */
  readonly timeScale?: number;
  /** Per Wait state name, the wait in milliseconds (the library's override). */
  readonly waitTimeOverrides?: Readonly<Record<string, number>>;
  /** Per state name, the retry pause in milliseconds, one number or one per retrier (no backoff). */
  readonly retryIntervalOverrides?: Readonly<Record<string, number | number[]>>;
  /** Name of the state machine in ARNs (default `xos-reconcile`). */
  readonly stateMachineName?: string;
  readonly region?: string;
  readonly account?: string;
  /** Events kept per execution, most recent last (default 200). */
  readonly historyLimit?: number;
  /** Failed and timed-out executions are logged here (default: JSON lines on stdout). */
  readonly log?: Logger;
}

/** Thrown by start() for what StartExecution would reject (InvalidName, InvalidExecutionInput, stopped runner). */
export class StartExecutionError extends Error {
  constructor(
    override readonly name: 'InvalidName' | 'InvalidExecutionInput' | 'RunnerStopped',
    message: string,
  ) {
    super(message);
  }
}

/** An error as Step Functions sees a failed Lambda: Error = errorType, Cause = the runtime's JSON. */
class LambdaFunctionError extends Error {
  constructor(errorType: string, cause: string) {
    super(cause);
    this.name = errorType;
  }
}

interface ExecutionRecord {
  readonly executionArn: string;
  readonly name: string;
  readonly input: unknown;
  status: ExecutionStatus;
  readonly startDate: Date;
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  readonly history: ExecutionHistoryEvent[];
  abort?: () => void;
}

interface TaskTarget {
  readonly handler: LocalLambdaHandler;
  readonly functionName: string;
  readonly functionArn: string;
  /** lambda:invoke integration: the handler gets Payload and its result is wrapped. */
  readonly invoke: boolean;
}

const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:([^:]*):([^:]*):function:([^:]+)(?::[^:]+)?$/;
const LAMBDA_INVOKE = /^arn:aws[a-z-]*:states:::lambda:invoke$/;
const MAX_INPUT_BYTES = 256 * 1024;
/** The library's Task timeout when a Task sets none. */
const DEFAULT_TASK_TIMEOUT_MS = 60_000;

/** Runs executions of one state machine definition locally. */
export class LocalWorkflows implements WorkflowStarter {
  readonly stateMachineArn: string;
  readonly definition: AslDefinition;
  private readonly machine: StateMachine;
  private readonly tasks = new Map<string, { resource: string; state: Record<string, unknown> }>();
  private readonly executions = new Map<string, ExecutionRecord>();
  private readonly queue: ExecutionRecord[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly concurrency: number;
  private readonly historyLimit: number;
  private readonly log: Logger;
  private readonly region: string;
  private readonly account: string;
  private readonly stateMachineName: string;
  private slotsInUse = 0;
  private runningCount = 0;
  private pumpScheduled = false;
  private stopped = false;

  constructor(private readonly options: LocalWorkflowsOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? 16);
    this.historyLimit = Math.max(0, options.historyLimit ?? 200);
    this.log = options.log ?? jsonLogger('xos-workflows-local');
    this.region = options.region ?? 'us-east-1';
    this.account = options.account ?? '000000000000';
    this.stateMachineName = options.stateMachineName ?? 'xos-reconcile';
    this.stateMachineArn = `arn:aws:states:${this.region}:${this.account}:stateMachine:${this.stateMachineName}`;

    this.definition = substituteDefinition(options.definition, options.substitutions ?? {});
    const validation = validateDefinition(this.definition);
    if (!validation.valid) throw new Error(`invalid state machine definition:\n${validation.errors.join('\n')}`);
    for (const [name, state] of taskStates(this.definition)) {
      const resource = String(state.Resource);
      this.tasks.set(name, { resource, state });
      const params = state.Parameters as Record<string, unknown> | undefined;
      const functionName = LAMBDA_INVOKE.test(resource) ? params?.FunctionName : undefined;
      // A FunctionName taken from the input (`FunctionName.$`) can only be resolved at run time.
      if (LAMBDA_INVOKE.test(resource) && functionName === undefined && params?.['FunctionName.$'] !== undefined)
        continue;
      if (!this.target(resource, typeof functionName === 'string' ? functionName : undefined))
        throw new Error(`no local handler for Task state "${name}" (Resource ${resource})`);
    }
    // Validated above with asl-validator 4; the library would re-validate with its own copy (v3).
    this.machine = new StateMachine(interpreterDefinition(this.definition, options.timeScale) as never, {
      validationOptions: { noValidate: true },
    });
  }

  /** WorkflowStarter: start a reconcile execution. */
  start(name: string, input: ExecutionInput): Promise<'started' | 'exists'> {
    return this.startExecution(name, input);
  }

  /**
   * Start an execution named `name` (any JSON input). 'exists' when that name was started
   * before, whatever its status. Resolves before the execution runs.
   */
  async startExecution(name: string, input: unknown): Promise<'started' | 'exists'> {
    if (this.stopped) throw new StartExecutionError('RunnerStopped', 'the local workflow runner is stopped');
    checkExecutionName(name);
    const json = JSON.stringify(input ?? {});
    if (Buffer.byteLength(json) > MAX_INPUT_BYTES)
      throw new StartExecutionError('InvalidExecutionInput', `execution input is larger than ${MAX_INPUT_BYTES} bytes`);
    if (this.executions.has(name)) return 'exists';
    const record: ExecutionRecord = {
      executionArn: `arn:aws:states:${this.region}:${this.account}:execution:${this.stateMachineName}:${name}`,
      name,
      input: JSON.parse(json),
      status: 'RUNNING',
      startDate: new Date(),
      history: [],
    };
    this.executions.set(name, record);
    this.runningCount++;
    this.queue.push(record);
    this.schedulePump();
    return 'started';
  }

  /** The execution of that name (or ARN), or undefined. */
  describe(nameOrArn: string): LocalExecution | undefined {
    const record = this.executions.get(nameOrArn) ?? this.executions.get(nameOrArn.split(':').at(-1) ?? '');
    return record ? snapshot(record) : undefined;
  }

  /** Executions in start order, optionally of one status. */
  list(filter: { status?: ExecutionStatus } = {}): LocalExecution[] {
    const out: LocalExecution[] = [];
    for (const r of this.executions.values()) if (!filter.status || r.status === filter.status) out.push(snapshot(r));
    return out;
  }

  /** Executions with status RUNNING, including those waiting for a concurrency slot. */
  running(): number {
    return this.runningCount;
  }

  /** Executions started but waiting for a concurrency slot. */
  queued(): number {
    return this.queue.length;
  }

  /** Resolves when no execution is RUNNING (nothing executing, nothing waiting). */
  idle(): Promise<void> {
    if (this.runningCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Abort everything at once, like a crash of the whole runtime: every RUNNING execution becomes
   * ABORTED immediately, no state starts afterwards and start() is refused. The returned promise
   * resolves when the Lambda handler invocations already in flight have returned (they cannot
   * be interrupted); a crash simulation need not await it, test cleanup should.
   */
  stop(): Promise<void> {
    this.stopped = true;
    const now = new Date();
    for (const record of this.queue.splice(0)) this.finish(record, { status: 'ABORTED' }, now);
    for (const record of this.executions.values()) {
      if (record.status !== 'RUNNING') continue;
      this.finish(record, { status: 'ABORTED' }, now);
      record.abort?.();
    }
    return Promise.allSettled([...this.inFlight]).then(() => undefined);
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      while (!this.stopped && this.slotsInUse < this.concurrency && this.queue.length > 0)
        this.launch(this.queue.shift() as ExecutionRecord);
    });
  }

  private launch(record: ExecutionRecord): void {
    this.slotsInUse++;
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const name of this.tasks.keys()) handlers[name] = (input) => this.invokeTask(record, name, input);
    const execution = this.machine.run(record.input as never, {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: this.options.waitTimeOverrides as Record<string, number> | undefined,
        retryIntervalOverrides: this.options.retryIntervalOverrides as Record<string, number | number[]> | undefined,
      },
      context: {
        Execution: {
          Id: record.executionArn,
          Name: record.name,
          RoleArn: `arn:aws:iam::${this.account}:role/xos-local`,
        },
        StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName },
      },
    });
    record.abort = execution.abort;
    void this.recordHistory(record, execution.eventLogs);
    execution.result
      .then(
        (output) => this.finish(record, { status: 'SUCCEEDED', output }),
        (err: unknown) => this.finish(record, outcomeOf(err)),
      )
      .finally(() => {
        this.slotsInUse--;
        record.abort = undefined;
        if (this.queue.length > 0) this.schedulePump();
      });
  }

  private async invokeTask(record: ExecutionRecord, stateName: string, input: unknown): Promise<unknown> {
    // The interpreter retries a Task whose backoff sleep was cut short by an abort: never call
    // a handler for an execution that is no longer running.
    if (record.status !== 'RUNNING') throw new LambdaFunctionError('States.Aborted', 'execution aborted');
    const task = this.tasks.get(stateName) as { resource: string; state: Record<string, unknown> };
    const invoke = LAMBDA_INVOKE.test(task.resource);
    const params = (input ?? {}) as Record<string, unknown>;
    const target = this.target(task.resource, invoke ? String(params.FunctionName ?? '') : undefined);
    if (!target) throw new LambdaFunctionError('States.Runtime', `no local handler for Task state "${stateName}"`);
    const event = jsonCopy(target.invoke ? (params.Payload ?? null) : input);
    const timeoutMs =
      typeof task.state.TimeoutSeconds === 'number' ? task.state.TimeoutSeconds * 1000 : DEFAULT_TASK_TIMEOUT_MS;
    const call = Promise.resolve().then(() =>
      target.handler(event, localLambdaContext(target.functionName, { functionArn: target.functionArn, timeoutMs })),
    );
    this.inFlight.add(call);
    try {
      const out = await call;
      const result = out === undefined ? null : jsonCopy(out);
      return target.invoke ? { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 } : result;
    } catch (err) {
      throw toLambdaError(err);
    } finally {
      this.inFlight.delete(call);
    }
  }

  /** The handler of a Task: a Lambda function by its ARN or name, any other Resource by itself. */
  private target(resource: string, functionName?: string): TaskTarget | undefined {
    const { handlers } = this.options;
    const own = (key: string | undefined) => (key && Object.hasOwn(handlers, key) ? handlers[key] : undefined);
    const invoke = LAMBDA_INVOKE.test(resource);
    const ref = invoke ? functionName : resource;
    const arn = ref ? LAMBDA_ARN.exec(ref) : null;
    if (ref && (arn || invoke)) {
      const name = arn ? (arn[3] as string) : ref;
      const handler = own(ref) ?? own(name);
      if (handler)
        return {
          handler,
          functionName: name,
          functionArn: arn ? ref : `arn:aws:lambda:${this.region}:${this.account}:function:${name}`,
          invoke,
        };
    }
    const handler = own(resource);
    return handler ? { handler, functionName: resource, functionArn: resource, invoke: false } : undefined;
  }

  private finish(
    record: ExecutionRecord,
    outcome: { status: Exclude<ExecutionStatus, 'RUNNING'>; output?: unknown; error?: string; cause?: string },
    at = new Date(),
  ): void {
    if (record.status !== 'RUNNING') return; // stop() already closed it
    record.status = outcome.status;
    record.stopDate = at;
    record.output = outcome.output;
    record.error = outcome.error;
    record.cause = outcome.cause;
    if (outcome.status === 'FAILED' || outcome.status === 'TIMED_OUT')
      this.log.error('execution failed', {
        execution: record.name,
        status: outcome.status,
        error: outcome.error,
        cause: outcome.cause?.slice(0, 1000),
      });
    this.runningCount--;
    if (this.runningCount === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private async recordHistory(record: ExecutionRecord, events: AsyncGenerator<unknown>): Promise<void> {
    if (this.historyLimit === 0) return;
    try {
      for await (const raw of events) {
        const e = raw as {
          type: string;
          timestamp: number;
          state?: { name?: string };
          Error?: unknown;
          Cause?: unknown;
          retry?: { attempt?: number };
        };
        const entry: ExecutionHistoryEvent = {
          type: e.type,
          timestamp: e.timestamp,
          ...(e.state?.name !== undefined && { state: e.state.name }),
          ...(e.Error !== undefined && { error: String(e.Error) }),
          ...(e.Cause !== undefined && { cause: causeText(e.Cause) }),
          ...(e.retry?.attempt !== undefined && { retryAttempt: e.retry.attempt }),
        };
        record.history.push(entry);
        if (record.history.length > this.historyLimit) record.history.shift();
      }
    } catch {
      // The history is a diagnostic; the execution's outcome comes from its result.
    }
  }
}

/** Step Functions' execution name rules: 1-80 characters, none of whitespace, brackets, wildcards, specials, controls. */
export function checkExecutionName(name: string): void {
  const bad = [...name].find((ch) => {
    const c = ch.codePointAt(0) as number;
    return c <= 0x20 || (c >= 0x7f && c <= 0x9f) || /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/.test(ch);
  });
  if (name.length === 0 || name.length > 80 || bad !== undefined)
    throw new StartExecutionError(
      'InvalidName',
      `invalid execution name ${JSON.stringify(name)}: 1-80 characters, no whitespace, brackets, wildcards or special characters`,
    );
}

function snapshot(r: ExecutionRecord): LocalExecution {
  return {
    executionArn: r.executionArn,
    name: r.name,
    input: r.input,
    status: r.status,
    startDate: r.startDate,
    ...(r.stopDate && { stopDate: r.stopDate }),
    ...(r.output !== undefined && { output: r.output }),
    ...(r.error !== undefined && { error: r.error }),
    ...(r.cause !== undefined && { cause: r.cause }),
    history: [...r.history],
  };
}

function outcomeOf(err: unknown): {
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  error?: string;
  cause?: string;
} {
  if (err instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (err instanceof ExecutionTimeoutError)
    return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'the execution exceeded TimeoutSeconds' };
  if (err instanceof ExecutionError && err.cause instanceof Error)
    return { status: 'FAILED', error: err.cause.name, cause: err.cause.message };
  return { status: 'FAILED', error: err instanceof Error ? err.name : 'Error', cause: String(err) };
}

function toLambdaError(err: unknown): LambdaFunctionError {
  const e = err instanceof Error ? err : new Error(String(err));
  const errorType = e.name || 'Error';
  const trace = (e.stack ?? '').split('\n').slice(0, 10);
  return new LambdaFunctionError(errorType, JSON.stringify({ errorType, errorMessage: e.message, trace }));
}

function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}

function jsonCopy(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null));
}

type State = Record<string, unknown>;

/** The nested state maps of a state (Map iterator/processor, Parallel branches). */
function nestedMachines(state: State): State[] {
  const out: State[] = [];
  for (const key of ['Iterator', 'ItemProcessor'] as const) if (isObject(state[key])) out.push(state[key] as State);
  if (Array.isArray(state.Branches)) for (const b of state.Branches) if (isObject(b)) out.push(b as State);
  return out;
}

/** Every Task state of a definition, nested ones included (state names are unique machine-wide). */
function taskStates(machine: State): Array<[string, State]> {
  const out: Array<[string, State]> = [];
  for (const [name, state] of Object.entries((machine.States ?? {}) as Record<string, State>)) {
    if (state.Type === 'Task') out.push([name, state]);
    for (const nested of nestedMachines(state)) out.push(...taskStates(nested));
  }
  return out;
}

/**
 * The definition as the interpreter should run it: a copy where `ResultPath: "$"` (states and
 * catchers) is dropped, since aws-local-stepfunctions 3.0.0 would write the result under a key
 * named "$" while "$" means the default (the result replaces the input); and, with `timeScale`,
 * Retry intervals and Wait seconds multiplied by it.
 */
export function interpreterDefinition<T extends object>(definition: T, timeScale?: number): T {
  if (timeScale !== undefined && !(timeScale > 0)) throw new Error(`timeScale must be > 0, got ${timeScale}`);
  const scale = timeScale ?? 1;
  const dropRootResultPath = (o: State): State => {
    if (o.ResultPath !== '$') return o;
    const { ResultPath: _, ...rest } = o;
    return rest;
  };
  const prepareMachine = (machine: State): State => {
    const states: Record<string, State> = {};
    for (const [name, original] of Object.entries((machine.States ?? {}) as Record<string, State>)) {
      const state: State = dropRootResultPath({ ...original });
      if (Array.isArray(state.Catch)) state.Catch = (state.Catch as State[]).map(dropRootResultPath);
      if (Array.isArray(state.Retry) && timeScale !== undefined)
        state.Retry = (state.Retry as State[]).map((r) => ({
          ...r,
          IntervalSeconds: ((r.IntervalSeconds as number | undefined) ?? 1) * scale,
          ...(typeof r.MaxDelaySeconds === 'number' && { MaxDelaySeconds: r.MaxDelaySeconds * scale }),
        }));
      if (state.Type === 'Wait' && typeof state.Seconds === 'number') state.Seconds = state.Seconds * scale;
      for (const key of ['Iterator', 'ItemProcessor'] as const)
        if (isObject(state[key])) state[key] = prepareMachine(state[key] as State);
      if (Array.isArray(state.Branches)) state.Branches = (state.Branches as State[]).map(prepareMachine);
      states[name] = state;
    }
    return { ...machine, States: states };
  };
  return prepareMachine(definition as State) as T;
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
