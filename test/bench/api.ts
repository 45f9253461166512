/**
 * The API part of the benchmark (DESIGN section 11, "Throughput" and "Cost shape"): requests per
 * second and p50/p99 latency of create, get-by-id and filtered list at 32 concurrent clients
 * through the real HTTP path (dev server -> unchanged Lambda handler -> DynamoDB Local), the same
 * operations issued directly with the SDK in the same run (the ratio is the API's overhead), and
 * the DynamoDB calls each API request makes.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { ulid } from 'ulid';
import { dynamoClientConfig } from '../../shared/adapters/compose';
import { requireModel } from '../../shared/model/registry';
import { objectKey, refIndex, refPartition, refSlot } from '../../shared/model/table';
import { indexAttributes, uniqueGuards } from '../../shared/store/keys';
import type { StoredObject } from '../../shared/store/store';
import type { ServerCommand, ServerLog, ServerMessage, ServerStats } from './api-server';
import { competingProcesses, processCpuMs, processRssMb } from './env';
import { httpLoad, loopLoad, type MeasureHooks, type PhaseResult, pool, round } from './load';

/** What every part gets from the runner. */
export interface BenchContext {
  readonly quick: boolean;
  /** The DynamoDB Local of this run (in memory); each part makes its own table in it. */
  readonly dynamodb: { readonly endpoint: string; readonly pid: number | undefined };
  log(line: string): void;
  /** Register a cleanup; the runner calls them (last first) at the end, on failure and on Ctrl-C. */
  defer(cleanup: () => Promise<void>): void;
  /** Name a process the part started; the runner checks it is gone after cleanup. */
  trackProcess(label: string, pid: number): void;
}

/** Sizes of the API part. */
export interface ApiBenchConfig {
  readonly connections: number;
  readonly duration_s: number;
  readonly warmup_s: number;
  readonly sites: number;
  readonly slices: number;
  readonly list_limit: number;
  /** Requests of each kind sent to measure DynamoDB calls per request. */
  readonly call_samples: number;
}

/** Full run: 7 phases of 3 s warm-up + 15 s measurement, about 2.5 minutes in all. */
export const API_FULL: ApiBenchConfig = {
  connections: 32,
  duration_s: 15,
  warmup_s: 3,
  sites: 20,
  slices: 2000,
  list_limit: 100,
  call_samples: 100,
};

/** Smoke test of the bench itself: same shape (100 slices per listed site), short phases. */
export const API_QUICK: ApiBenchConfig = {
  connections: 32,
  duration_s: 2,
  warmup_s: 0.5,
  sites: 4,
  slices: 400,
  list_limit: 100,
  call_samples: 32,
};

/** DynamoDB calls per API request of one kind. */
export interface CallsPerRequest {
  readonly requests: number;
  readonly failed: number;
  readonly total: number;
  readonly by_operation: Record<string, number>;
}

type Op = 'create' | 'get' | 'list';

/** The API part's results. */
export interface ApiBenchResult {
  readonly config: ApiBenchConfig;
  readonly valid: boolean;
  /** Why the run is not valid (empty when valid). */
  readonly problems: string[];
  /** What makes the numbers less trustworthy without invalidating them (other work on the machine). */
  readonly warnings: string[];
  readonly api: Record<Op, PhaseResult>;
  readonly raw: {
    readonly put_item: PhaseResult;
    readonly get_item: PhaseResult;
    readonly query: PhaseResult;
    /** The DynamoDB calls of one API create (as counted), issued back to back with the SDK. */
    readonly create_sequence: PhaseResult & { readonly calls: Record<string, number> };
  };
  /** api / raw: rps ratio (1 = no overhead) and p50 latency ratio. */
  readonly ratios: Record<string, { readonly rps: number; readonly p50: number; readonly raw: string }>;
  readonly ddb_calls_per_request: Record<Op, CallsPerRequest>;
  readonly memory: {
    readonly api_process_after_fixtures: MemoryFigures;
    readonly api_process_after_run: MemoryFigures;
    readonly bench_process_after_run: MemoryFigures;
    readonly dynamodb_local_rss_mb: number | undefined;
  };
  readonly api_log: ServerLog;
  readonly timings_s: {
    readonly setup: number;
    readonly fixtures: number;
    readonly measure: number;
    readonly total: number;
  };
}

export interface MemoryFigures {
  readonly rss_mb: number;
  readonly heap_used_mb: number;
  readonly heap_total_mb: number;
  readonly external_mb: number;
}

const PREFIX = '/xosapi/v1/core';
const ADMIN_EMAIL = 'bench-admin@example.com';

/** Run the API part. */
export async function runApiBench(
  ctx: BenchContext,
  config: ApiBenchConfig = ctx.quick ? API_QUICK : API_FULL,
): Promise<ApiBenchResult> {
  const t0 = Date.now();
  const problems: string[] = [];
  const tag = randomBytes(3).toString('hex');
  const tableName = `xos-bench-${tag}`;
  const adminPassword = randomBytes(18).toString('base64url');

  ctx.log(`api: starting the API process (table ${tableName})`);
  const raw = new DynamoDBClient(dynamoClientConfig(ctx.dynamodb.endpoint));
  ctx.defer(async () => raw.destroy());
  const server = await startApiProcess(ctx, {
    BENCH_DYNAMODB_ENDPOINT: ctx.dynamodb.endpoint,
    BENCH_TABLE: tableName,
    BENCH_ADMIN_EMAIL: ADMIN_EMAIL,
    BENCH_ADMIN_PASSWORD: adminPassword,
  });

  const login = await http(server.url, 'POST', '/xosapi/v1/utility/login', undefined, {
    username: ADMIN_EMAIL,
    password: adminPassword,
  });
  if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${JSON.stringify(login.body)}`);
  const token = login.body.token as string;
  const adminId = login.body.user_id as string;
  const t1 = Date.now();

  // Fixtures: sites to list by, slices spread over them (a pool for get-by-id), a site for creates.
  ctx.log(`api: fixtures (${config.sites} sites, ${config.slices} slices)`);
  const mustCreate = async (plural: string, body: unknown) => {
    const res = await http(server.url, 'POST', `${PREFIX}/${plural}`, token, body);
    if (res.status !== 201)
      throw new Error(`fixture ${plural} create failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as StoredObject;
  };
  const site = (name: string) => ({ name, login_base: name, abbreviated_name: name });
  const sites = await pool(config.sites, 8, (i) => mustCreate('sites', site(`bench${tag}s${i}`)));
  const siteIds = sites.map((s) => s.id);
  const createSiteId = (await mustCreate('sites', site(`bench${tag}create`))).id;
  // One slice through the API is the template; the rest are written with BatchWriteItem as the
  // store writes them (the item with its index attributes, and its name guard). Creating 2,000
  // slices through the API would take minutes on DynamoDB Local; what is measured is reading them.
  const model = requireModel('Slice');
  const template = await mustCreate('slices', { name: `bench-${tag}-0`, site_id: siteIds[0] });
  const cloneSlice = (name: string, siteId: string): StoredObject => {
    const now = new Date().toISOString();
    return { ...template, id: ulid(), name, site_id: siteId, created: now, updated: now };
  };
  const itemOf = (obj: StoredObject) =>
    marshall({ ...obj, ...indexAttributes(model, obj) }, { removeUndefinedValues: true });
  const guardItemsOf = (obj: StoredObject) =>
    uniqueGuards(model, obj).map((g) => marshall({ ...g.key, owner_id: obj.id, owner_kind: obj.kind }));
  const slices = [
    template,
    ...Array.from({ length: config.slices - 1 }, (_, i) =>
      cloneSlice(`bench-${tag}-${i + 1}`, siteIds[(i + 1) % siteIds.length] as string),
    ),
  ];
  const perBatch = 12; // 12 slices and their 12 guards: 24 of the 25 items a batch may hold
  await pool(Math.ceil((slices.length - 1) / perBatch), 4, async (b) => {
    const batch = slices.slice(1 + b * perBatch, 1 + (b + 1) * perBatch);
    await batchWrite(
      raw,
      tableName,
      batch.flatMap((obj) => [itemOf(obj), ...guardItemsOf(obj)]),
    );
  });
  const sliceIds = slices.map((s) => s.id);
  const perSite = Math.ceil(config.slices / config.sites);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
  let created = 0;
  const newSliceBody = () => JSON.stringify({ name: `bench-${tag}-c${created++}`, site_id: createSiteId });

  const requests: Record<Op, () => { method: string; path: string; body?: string }> = {
    create: () => ({ method: 'POST', path: `${PREFIX}/slices`, body: newSliceBody() }),
    get: () => ({ method: 'GET', path: `${PREFIX}/slices/${pick(sliceIds)}` }),
    list: () => ({ method: 'GET', path: `${PREFIX}/slices?site_id=${pick(siteIds)}&limit=${config.list_limit}` }),
  };

  // Sanity: the requests measured below return what they should.
  const got = await http(server.url, 'GET', requests.get().path, token);
  if (got.status !== 200 || !sliceIds.includes(got.body?.id)) problems.push(`sanity: get returned ${got.status}`);
  const listed = await http(
    server.url,
    'GET',
    `${PREFIX}/slices?site_id=${siteIds[0]}&limit=${config.list_limit}`,
    token,
  );
  const expectedItems = Math.min(perSite, config.list_limit);
  if (
    listed.status !== 200 ||
    listed.body?.items?.length !== expectedItems ||
    !listed.body.items.every((s: StoredObject) => s.site_id === siteIds[0])
  ) {
    problems.push(
      `sanity: list returned ${listed.status} with ${listed.body?.items?.length} items (expected ${expectedItems})`,
    );
  }

  // DynamoDB calls per request, counted by the store, over a fixed number of requests of each kind.
  ctx.log(`api: DynamoDB calls per request (${config.call_samples} requests of each kind)`);
  const callsPerRequest = {} as Record<Op, CallsPerRequest>;
  for (const op of ['get', 'list', 'create'] as const) {
    await server.ask('calls-reset');
    let failed = 0;
    await pool(config.call_samples, config.connections, async () => {
      const spec = requests[op]();
      const res = await http(
        server.url,
        spec.method,
        spec.path,
        token,
        spec.body === undefined ? undefined : JSON.parse(spec.body),
      );
      if (res.status < 200 || res.status >= 300) failed++;
    });
    const counts = await server.ask<Record<string, number>>('calls-snapshot');
    const byOperation: Record<string, number> = {};
    let total = 0;
    for (const [name, n] of Object.entries(counts)) {
      byOperation[name] = round(n / config.call_samples, 3);
      total += n;
    }
    callsPerRequest[op] = {
      requests: config.call_samples,
      failed,
      total: round(total / config.call_samples, 3),
      by_operation: byOperation,
    };
    if (failed > 0) problems.push(`calls-per-request pass: ${failed} of ${config.call_samples} ${op} requests failed`);
  }
  const memoryAfterFixtures = toMemory(await server.ask<NodeJS.MemoryUsage>('memory'));
  const t2 = Date.now();

  // The raw counterparts: the same table, indexes and item shapes, straight through the SDK.
  const rawSlice = () => cloneSlice(`raw-${tag}-${created++}`, createSiteId);
  const slot = refSlot(model, 'site_id');
  if (slot === undefined) throw new Error('Slice.site_id is not indexed');
  const siteIndex = refIndex(slot);
  const queryLimit = config.list_limit + 1; // the list reads one item past the page to know whether more exist
  const rawQuery = (siteId: string) =>
    raw.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: siteIndex.name,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': siteIndex.partitionKey },
        ExpressionAttributeValues: marshall({ ':pk': refPartition(model, 'site_id', siteId) }),
        Limit: queryLimit,
      }),
    );
  const rawCount = (await rawQuery(siteIds[0] as string)).Items?.length ?? 0;
  if (rawCount !== expectedItems)
    problems.push(`sanity: raw query returned ${rawCount} items (expected ${expectedItems})`);
  const batchGetPair = (kindA: string, idA: string, kindB: string, idB: string) =>
    raw.send(
      new BatchGetItemCommand({
        RequestItems: {
          [tableName]: {
            Keys: [marshall(objectKey(kindA, idA)), marshall(objectKey(kindB, idB))],
            ConsistentRead: true,
          },
        },
      }),
    );
  const refCheck = (kind: string, id: string) => ({
    ConditionCheck: {
      TableName: tableName,
      Key: marshall(objectKey(kind, id)),
      ConditionExpression: 'attribute_exists(PK) AND deleted = :f',
      ExpressionAttributeValues: marshall({ ':f': false }),
    },
  });
  // What DynamoStore.create does for a slice: the site and the creator (derived from the caller)
  // are loaded in one BatchGetItem, then one transaction writes the item and its name guard and
  // checks that both references are live.
  const createSequence = async () => {
    const obj = rawSlice();
    await batchGetPair('Site', createSiteId, 'User', adminId);
    await raw.send(
      new TransactWriteItemsCommand({
        ClientRequestToken: randomUUID(),
        TransactItems: [
          { Put: { TableName: tableName, Item: itemOf(obj), ConditionExpression: 'attribute_not_exists(PK)' } },
          ...guardItemsOf(obj).map((Item) => ({
            Put: {
              TableName: tableName,
              Item,
              ConditionExpression: 'attribute_not_exists(PK) OR owner_id = :id',
              ExpressionAttributeValues: marshall({ ':id': obj.id }),
            },
          })),
          refCheck('Site', createSiteId),
          refCheck('User', adminId),
        ],
      }),
    );
  };
  const sequenceCalls = { BatchGetItem: 1, TransactWriteItems: 1 };

  // Requests a stopped autocannon run leaves in the API are waited for, so no phase starts with
  // a backlog. CPU time of each process over the measured run is divided by the requests completed:
  // for the API process, all it served (in the window or not); for raw phases, every SDK call.
  const drained = async (): Promise<ServerStats> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const stats = await server.ask<ServerStats>('stats');
      if (stats.inflight === 0) return stats;
      if (Date.now() > deadline) throw new Error(`the API still has ${stats.inflight} requests in flight after 60 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const cpuNow = (api: ServerStats) => {
    const bench = process.cpuUsage();
    return {
      api_process: api.cpu_ms,
      load_generator: (bench.user + bench.system) / 1000,
      dynamodb_local: processCpuMs(ctx.dynamodb.pid) ?? Number.NaN,
    };
  };
  const hooks = (throughApi: boolean): MeasureHooks => {
    let before: Record<string, number> = {};
    let servedBefore = 0;
    return {
      begin: async () => {
        const stats = await drained();
        servedBefore = stats.completed;
        before = cpuNow(stats);
      },
      finish: async (completions) => {
        const stats = await drained();
        const after: Record<string, number> = cpuNow(stats);
        const requests = throughApi ? stats.completed - servedBefore : completions;
        const out: Record<string, number> = {};
        for (const [k, v] of Object.entries(before)) {
          if (!throughApi && k === 'api_process') continue;
          const d = (after[k] as number) - v;
          if (Number.isFinite(d) && requests > 0) out[k] = round(d / requests, 3);
        }
        return out;
      },
      competing: () => competingProcesses([ctx.dynamodb.pid ?? -1, server.pid]),
    };
  };
  const common = { connections: config.connections, warmupS: config.warmup_s, durationS: config.duration_s };
  const httpPhase = (name: string, op: Op) => {
    ctx.log(`api: measuring ${name}`);
    return httpLoad({
      ...common,
      name,
      url: server.url,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      next: requests[op],
      hooks: hooks(true),
    });
  };
  const rawPhase = (name: string, op: () => Promise<unknown>) => {
    ctx.log(`api: measuring ${name}`);
    return loopLoad({ ...common, name, op, hooks: hooks(false) });
  };

  // Reads first, so the writes do not change what they read; each API phase next to its raw one.
  const apiGet = await httpPhase('api get by id', 'get');
  const rawGet = await rawPhase('raw GetItem', () =>
    raw.send(
      new GetItemCommand({
        TableName: tableName,
        Key: marshall(objectKey('Slice', pick(sliceIds))),
        ConsistentRead: true,
      }),
    ),
  );
  const apiList = await httpPhase('api list by site', 'list');
  const rawList = await rawPhase('raw Query', () => rawQuery(pick(siteIds)));
  const apiCreate = await httpPhase('api create', 'create');
  const rawPut = await rawPhase('raw PutItem', () =>
    raw.send(
      new PutItemCommand({
        TableName: tableName,
        Item: itemOf(rawSlice()),
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    ),
  );
  const rawSequence = await rawPhase('raw create sequence', createSequence);
  const t3 = Date.now();

  const counted = callsPerRequest.create.by_operation;
  const sameShape =
    Object.keys(counted).length === Object.keys(sequenceCalls).length &&
    Object.entries(sequenceCalls).every(([k, v]) => counted[k] === v);
  if (!sameShape) {
    problems.push(
      `raw create sequence (${JSON.stringify(sequenceCalls)}) no longer matches the calls an API create makes (${JSON.stringify(counted)}): update test/bench/api.ts`,
    );
  }

  const phases = { apiGet, rawGet, apiList, rawList, apiCreate, rawPut, rawSequence };
  for (const p of Object.values(phases)) {
    if (!p.valid)
      problems.push(
        `${p.name}: ${p.errors.failed} failed, ${p.errors.transport} transport errors (${p.errors.samples.join('; ')})`,
      );
  }
  const warnings: string[] = [];
  const busy = Object.values(phases).filter((p) => (p.competing_processes ?? []).length > 0);
  if (busy.length > 0) {
    const names = [...new Set(busy.flatMap((p) => p.competing_processes ?? []))].sort();
    warnings.push(
      `other work was running during ${busy.length} of ${Object.keys(phases).length} phases (${names.join(', ')}): see the per-phase table`,
    );
  }
  const apiLog = await server.ask<ServerLog>('log');
  if (apiLog.errors > 0) problems.push(`the API logged ${apiLog.errors} errors (5xx): ${apiLog.samples.join(' | ')}`);
  const memoryAfterRun = toMemory(await server.ask<NodeJS.MemoryUsage>('memory'));

  const ratio = (api: PhaseResult, base: PhaseResult) => ({
    rps: base.rps > 0 ? round(api.rps / base.rps, 3) : 0,
    p50: base.latency.p50_ms > 0 ? round(api.latency.p50_ms / base.latency.p50_ms, 2) : 0,
    raw: base.name,
  });
  return {
    config,
    valid: problems.length === 0,
    problems,
    warnings,
    api: { create: apiCreate, get: apiGet, list: apiList },
    raw: {
      put_item: rawPut,
      get_item: rawGet,
      query: rawList,
      create_sequence: { ...rawSequence, calls: sequenceCalls },
    },
    ratios: {
      create_vs_put_item: ratio(apiCreate, rawPut),
      create_vs_create_sequence: ratio(apiCreate, rawSequence),
      get_vs_get_item: ratio(apiGet, rawGet),
      list_vs_query: ratio(apiList, rawList),
    },
    ddb_calls_per_request: callsPerRequest,
    memory: {
      api_process_after_fixtures: memoryAfterFixtures,
      api_process_after_run: memoryAfterRun,
      bench_process_after_run: toMemory(process.memoryUsage()),
      dynamodb_local_rss_mb: processRssMb(ctx.dynamodb.pid),
    },
    api_log: apiLog,
    timings_s: {
      setup: round((t1 - t0) / 1000, 1),
      fixtures: round((t2 - t1) / 1000, 1),
      measure: round((t3 - t2) / 1000, 1),
      total: round((Date.now() - t0) / 1000, 1),
    },
  };
}

/** BatchWriteItem of up to 25 items, retrying what DynamoDB leaves unprocessed. */
async function batchWrite(
  client: DynamoDBClient,
  tableName: string,
  items: Record<string, AttributeValue>[],
): Promise<void> {
  let pending = items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 10) throw new Error('BatchWriteItem: items still unprocessed after 10 retries');
    if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * attempt));
    const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
    pending = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
  }
}

function toMemory(m: NodeJS.MemoryUsage): MemoryFigures {
  const mb = (n: number) => round(n / 2 ** 20, 1);
  return {
    rss_mb: mb(m.rss),
    heap_used_mb: mb(m.heapUsed),
    heap_total_mb: mb(m.heapTotal),
    external_mb: mb(m.external),
  };
}

/** A JSON request; the body of the response parsed when it is JSON. */
async function http(
  base: string,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  // biome-ignore lint/suspicious/noExplicitAny: responses are inspected dynamically
): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } catch {
    return { status: res.status, body: text };
  }
}

/** The forked API process. */
interface ApiProcess {
  readonly url: string;
  readonly pid: number;
  ask<T = unknown>(cmd: ServerCommand): Promise<T>;
}

async function startApiProcess(ctx: BenchContext, env: Record<string, string>): Promise<ApiProcess> {
  // Forked with this process's exec arguments, so the tsx loader runs the TypeScript entry.
  const child: ChildProcess = fork(join(__dirname, 'api-server.ts'), [], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (child.pid !== undefined) ctx.trackProcess('API process (node)', child.pid);
  let nextId = 0;
  const pending = new Map<number, { resolve: (data: unknown) => void; reject: (err: Error) => void }>();
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const p of pending.values()) p.reject(new Error(`the API process exited (${code ?? signal})`));
      pending.clear();
      resolve();
    }),
  );
  ctx.defer(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ id: ++nextId, cmd: 'stop' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  });
  const ready = new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the API process did not start within 60 s')), 60_000);
    child.on('message', (msg: ServerMessage) => {
      if (msg.type === 'ready') {
        clearTimeout(timer);
        resolve({ url: msg.url, pid: msg.pid });
      } else if (msg.type === 'fatal') {
        clearTimeout(timer);
        reject(new Error(`the API process failed: ${msg.error}`));
      } else if (msg.type === 'reply') {
        pending.get(msg.id)?.resolve(msg.data);
        pending.delete(msg.id);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the API process exited (${code})`));
    });
  });
  const { url, pid } = await ready;
  return {
    url,
    pid,
    ask: <T>(cmd: ServerCommand) =>
      new Promise<T>((resolve, reject) => {
        if (!child.connected) return reject(new Error('the API process is gone'));
        const id = ++nextId;
        pending.set(id, { resolve: (data) => resolve(data as T), reject });
        child.send({ id, cmd });
      }),
  };
}
