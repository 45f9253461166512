/**
 * The synchronizer part of `npm run bench` (DESIGN section 11): a realistic graph (sites bound to a
 * controller, slices, networks, instances; the policies add placement records and ports) is
 * written while the synchronizer is stopped, then the local runtime starts and converges it
 * through the real stream, dispatch, ASL and step handlers against the stand-in back-end.
 *
 * Reported per scenario (back-end latency L per call):
 * - time to all enacted, against the critical-path bound: the longest dependency chain, each
 *   object on it costing the back-end calls its sync makes (observe, create, observe = 3 L);
 * - objects per second;
 * - state transitions per clean sync (from the executions' own event histories; target <= 10);
 * - DynamoDB calls per object (counted by the store).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local';
import { startSyncRuntime } from '../../infra/local/sync-runtime';
import { composeApi, dynamoClientConfig } from '../../shared/adapters/compose';
import { ensureTable } from '../../shared/adapters/dynamodb/create-table';
import { StandInCloud } from '../../shared/backends/standin';
import { outgoingRefs } from '../../shared/model/graph';
import { requireModel } from '../../shared/model/registry';
import { BY_KIND_INDEX, kindPartitions } from '../../shared/model/table';
import { SYNCHRONIZER } from '../../shared/policies';
import type { StoredObject } from '../../shared/store/store';
import type { BenchContext } from './api';

/** Back-end calls one driver object's clean sync makes with the stand-in (observe, create, observe). */
const CALLS_PER_DRIVER_OBJECT = 3;

/** One scenario's figures. */
export interface SyncScenarioResult {
  readonly name: string;
  readonly latency_ms: number;
  readonly objects: number;
  readonly written_by_user: number;
  readonly created_by_policies: number;
  readonly time_to_all_enacted_s: number;
  readonly objects_per_s: number;
  readonly critical_path_objects: number;
  readonly critical_path_bound_s: number;
  readonly ratio_to_bound: number | null;
  readonly executions: number;
  readonly clean_syncs: number;
  readonly transitions_per_clean_sync: { readonly min: number; readonly mean: number; readonly max: number };
  readonly transitions_per_object: number;
  readonly dynamodb_calls_per_object: number;
  readonly dynamodb_calls: Record<string, number>;
  readonly backend_calls: Record<string, number>;
  readonly duplicates_in_backend: number;
  readonly not_enacted: number;
  /** Executions per final status (FAILED ones leave their object to the sweeper). */
  readonly executions_by_status: Record<string, number>;
  /** Errors that failed executions or made a state retry, with counts. */
  readonly errors: Record<string, number>;
  /** Objects restarted by the sweeper during the run. */
  readonly swept: number;
  /** When objects became enacted, seconds after the start (from their last_success stamps). */
  readonly enacted_at_s: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
}

/** The part's result. */
export interface SyncBenchResult {
  readonly valid: boolean;
  readonly problems: string[];
  readonly graph: { sites: number; slices_per_site: number; instances_per_slice: number };
  readonly scenarios: SyncScenarioResult[];
  readonly runtime_s: number;
}

/** Run the sync part. */
export async function runSyncBench(ctx: BenchContext): Promise<SyncBenchResult> {
  const started = Date.now();
  const graph = graphSize(ctx.quick);
  const scenarios: SyncScenarioResult[] = [];
  const problems: string[] = [];
  for (const latency of latencies(ctx.quick)) {
    const result = await runScenario(ctx, graph, latency);
    scenarios.push(result);
    if (result.not_enacted > 0) problems.push(`${result.name}: ${result.not_enacted} objects not enacted`);
    if (result.duplicates_in_backend > 0)
      problems.push(`${result.name}: ${result.duplicates_in_backend} duplicate back-end objects`);
  }
  return { valid: problems.length === 0, problems, graph, scenarios, runtime_s: (Date.now() - started) / 1000 };
}

/**
 * The graph: full runs aim at about 1,000 objects (10 sites x 5 slices x (1 network + 8 instances),
 * plus what the policies add); XOS_BENCH_SYNC_GRAPH=sites,slices,instances overrides it.
 */
function graphSize(quick: boolean): SyncBenchResult['graph'] {
  const given = process.env.XOS_BENCH_SYNC_GRAPH?.split(',').map(Number);
  if (given && given.length === 3 && given.every((n) => Number.isInteger(n) && n > 0)) {
    return { sites: given[0] as number, slices_per_site: given[1] as number, instances_per_slice: given[2] as number };
  }
  return quick
    ? { sites: 2, slices_per_site: 2, instances_per_slice: 3 }
    : { sites: 10, slices_per_site: 5, instances_per_slice: 8 };
}

/** Back-end latencies of the scenarios: XOS_BENCH_SYNC_LATENCIES=0,250 overrides them. */
function latencies(quick: boolean): number[] {
  const given = process.env.XOS_BENCH_SYNC_LATENCIES?.split(',').map(Number);
  if (given && given.length > 0 && given.every((n) => Number.isFinite(n) && n >= 0)) return given;
  return quick ? [0, 100] : [0, 250];
}

async function runScenario(
  ctx: BenchContext,
  graph: SyncBenchResult['graph'],
  latencyMs: number,
): Promise<SyncScenarioResult> {
  const name = `L=${latencyMs} ms`;
  const tableName = `xos-bench-sync-${latencyMs}-${Date.now().toString(36)}`;
  // Each scenario gets its own DynamoDB Local with a 2 GB heap: one instance slows down within a
  // long run (even after tables are dropped), which would penalize later scenarios.
  const ddb = await startDynamoDbLocal({ heap: '2g' });
  ctx.defer(() => ddb.stop());
  const endpoint = ddb.endpoint;
  const client = new DynamoDBClient(dynamoClientConfig(endpoint));
  await ensureTable(client, tableName);
  const composed = composeApi({
    tableName,
    dynamodbEndpoint: endpoint,
    tokenSecret: 'x'.repeat(32),
    log: { error: () => undefined, info: () => undefined },
  });
  const objects = composed.objects;
  const m = requireModel;
  // Written as a real admin (slices and instances record their creator), with the synchronizer
  // stopped: convergence is timed from one start.
  ctx.log(`sync ${name}: writing the graph`);
  const home = await objects.create(
    m('Site'),
    { name: 'home', login_base: 'home', abbreviated_name: 'home' },
    SYNCHRONIZER,
  );
  const admin = await objects.create(
    m('User'),
    { email: 'bench@xos.local', is_admin: true, site_id: home.id },
    SYNCHRONIZER,
  );
  const caller = { userId: admin.id, email: 'bench@xos.local', isAdmin: true };
  const mk = (kind: string, body: Record<string, unknown>) => objects.create(m(kind), body, caller);
  const deployment = await mk('Deployment', { name: 'bench' });
  const controller = await mk('Controller', {
    name: 'bench-os',
    backend_type: 'openstack',
    deployment_id: deployment.id,
  });
  const template = await mk('NetworkTemplate', { name: 'bench-private' });
  const image = await mk('Image', { name: 'bench-image' });
  const flavor = await mk('Flavor', { name: 'bench-flavor' });
  let userWrites = 7;
  for (let s = 0; s < graph.sites; s++) {
    const site = await mk('Site', { name: `site-${s}`, login_base: `site${s}`, abbreviated_name: `s${s}` });
    await mk('SiteDeployment', { site_id: site.id, deployment_id: deployment.id, controller_id: controller.id });
    userWrites += 2;
    const writes: Promise<unknown>[] = [];
    for (let k = 0; k < graph.slices_per_site; k++) {
      writes.push(
        (async () => {
          const slice = await mk('Slice', { name: `slice-${s}-${k}`, site_id: site.id });
          await mk('Network', { name: `net-${s}-${k}`, template_id: template.id, owner_id: slice.id });
          await Promise.all(
            Array.from({ length: graph.instances_per_slice }, (_, i) =>
              mk('Instance', {
                name: `vm-${s}-${k}-${i}`,
                slice_id: slice.id,
                image_id: image.id,
                flavor_id: flavor.id,
                deployment_id: deployment.id,
              }),
            ),
          );
        })(),
      );
      userWrites += 2 + graph.instances_per_slice;
    }
    await Promise.all(writes);
  }

  const cloud = new StandInCloud({ latencyMs, settleMs: 0 });
  const quiet = { error: () => undefined, info: () => undefined };
  ctx.log(`sync ${name}: ${userWrites} objects written; starting the synchronizer`);
  const t0 = Date.now();
  const runtime = await startSyncRuntime({
    endpoint,
    tableName,
    drivers: cloud,
    concurrency: Number(process.env.XOS_BENCH_SYNC_CONCURRENCY || 64),
    sweepIntervalMs: 0,
    log: quiet,
  });
  ctx.defer(async () => runtime.stop());
  const storeCalls = runtime.ctx.store as unknown as { calls: { counts: Map<string, number>; total(): number } };
  // The sweeper runs as in production (every 5 s here), so objects whose execution failed are
  // restarted once their backoff or lease is due; convergence counts until nothing is left dirty.
  let swept = 0;
  const sweeper = setInterval(() => {
    void runtime.sweep().then(
      (r) => {
        swept += r.restarted;
      },
      () => undefined,
    );
  }, 5_000);
  let all: StoredObject[];
  let notEnacted: number;
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    await runtime.settle(Math.max(1, deadline - Date.now()));
    all = await listEverything(composed.store);
    notEnacted = all.filter((o) => !o.no_sync && !o.lazy_blocked && o.enacted_version !== o.version).length;
    if (notEnacted === 0 || Date.now() > deadline) break;
    ctx.log(`sync ${name}: ${notEnacted} objects not enacted yet; waiting for the sweeper`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
  clearInterval(sweeper);
  const elapsed = (Date.now() - t0) / 1000;
  await runtime.stop();
  client.destroy();
  await ddb.stop();

  const executions = runtime.workflows.list();
  const clean = executions.filter((e) => {
    const states = e.history.filter((h) => h.type === 'StateEntered').map((h) => h.state);
    return (
      e.status === 'SUCCEEDED' &&
      states.includes('Record') &&
      !states.includes('RecordFailure') &&
      (e.output as { record?: { recorded?: string } })?.record?.recorded === 'enacted'
    );
  });
  const byStatus: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const e of executions) {
    byStatus[e.status] = (byStatus[e.status] ?? 0) + 1;
    if (e.error) errors[`${e.status} ${e.error}`] = (errors[`${e.status} ${e.error}`] ?? 0) + 1;
    // A retry or catch event names no error: the StateFailed event just before it does.
    let failed: string | undefined;
    for (const h of e.history) {
      if (h.type === 'StateFailed') failed = h.error;
      if (h.type === 'StateRetried' || h.type === 'StateCaught' || h.type === 'ExecutionFailed') {
        const key = `${h.type} ${h.state ?? ''} ${h.error ?? failed ?? ''}`.trim();
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  }
  const transitions = clean.map((e) => e.history.filter((h) => h.type === 'StateEntered').length);
  const allTransitions = executions.reduce((n, e) => n + e.history.filter((h) => h.type === 'StateEntered').length, 0);
  const bound = criticalPath(all, cloud);
  const boundS = (bound * CALLS_PER_DRIVER_OBJECT * latencyMs) / 1000;
  const counts = Object.fromEntries(storeCalls.calls.counts);
  const duplicates = [...cloud.creates.values()].filter((c) => c > 1).length;
  return {
    name,
    latency_ms: latencyMs,
    objects: all.length,
    written_by_user: userWrites,
    created_by_policies: all.length - userWrites,
    time_to_all_enacted_s: round(elapsed, 2),
    objects_per_s: round(all.length / elapsed, 1),
    critical_path_objects: bound,
    critical_path_bound_s: round(boundS, 2),
    ratio_to_bound: boundS > 0 ? round(elapsed / boundS, 2) : null,
    executions: executions.length,
    clean_syncs: clean.length,
    transitions_per_clean_sync: {
      min: Math.min(...transitions),
      mean: round(transitions.reduce((a, b) => a + b, 0) / Math.max(1, transitions.length), 2),
      max: Math.max(...transitions),
    },
    transitions_per_object: round(allTransitions / all.length, 2),
    dynamodb_calls_per_object: round(storeCalls.calls.total() / all.length, 1),
    dynamodb_calls: counts,
    backend_calls: { ...cloud.calls },
    duplicates_in_backend: duplicates,
    not_enacted: notEnacted,
    enacted_at_s: enactedAt(all, t0),
    executions_by_status: byStatus,
    errors,
    swept,
  };
}

function enactedAt(all: readonly StoredObject[], t0: number): SyncScenarioResult['enacted_at_s'] {
  const times = all
    .map((o) => (o.backend_register as { last_success?: string } | null)?.last_success)
    .filter((t): t is string => typeof t === 'string')
    .map((t) => (Date.parse(t) - t0) / 1000)
    .sort((a, b) => a - b);
  const at = (q: number) => round(times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0, 1);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

async function listEverything(store: ReturnType<typeof composeApi>['store']): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  const { MODELS } = await import('../../shared/model/registry');
  for (const model of MODELS) {
    for (const partition of kindPartitions(model)) {
      let after: string | undefined;
      for (;;) {
        const page = await store.queryPartition(BY_KIND_INDEX, partition, after, 1000);
        out.push(...page.items);
        if (page.exhausted || page.items.length === 0) break;
        after = page.items[page.items.length - 1]?.id;
      }
    }
  }
  return out;
}

/** Driver objects on the longest dependency chain (each costs its back-end calls; others cost nothing). */
function criticalPath(all: readonly StoredObject[], cloud: StandInCloud): number {
  const byId = new Map(all.map((o) => [o.id, o]));
  const memo = new Map<string, number>();
  const weight = (o: StoredObject) => (cloud.handles(o) ? 1 : 0);
  const depth = (o: StoredObject, seen: Set<string>): number => {
    const known = memo.get(o.id);
    if (known !== undefined) return known;
    if (seen.has(o.id)) return 0;
    seen.add(o.id);
    let best = 0;
    for (const r of outgoingRefs(requireModel(o.kind), o)) {
      const dep = byId.get(r.id);
      if (dep && requireModel(o.kind).allFields[r.field]?.type !== 'refs') best = Math.max(best, depth(dep, seen));
    }
    const d = best + weight(o);
    memo.set(o.id, d);
    return d;
  };
  return Math.max(0, ...all.map((o) => depth(o, new Set())));
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The generated block of docs/benchmarks.md. */
export function renderSyncMarkdown(outcome: {
  ok: boolean;
  error?: string;
  result?: SyncBenchResult;
  run: { date: string; git: { commit: string; dirty: boolean }; mode: string };
}): string {
  if (!outcome.ok || !outcome.result)
    return `Run ${outcome.run.date}: the sync part failed: ${outcome.error ?? 'unknown error'}.`;
  const r = outcome.result;
  const g = r.graph;
  const lines = [
    `Run ${outcome.run.date} (${outcome.run.mode}), commit \`${outcome.run.git.commit}\`${outcome.run.git.dirty ? ' (working tree dirty)' : ''}. Graph: ${g.sites} sites bound to one controller, ${g.slices_per_site} slices per site, one network and ${g.instances_per_slice} instances per slice; the policies add the placement records and one port per instance.${r.valid ? '' : ` **Not valid:** ${r.problems.join('; ')}.`}`,
    '',
    '| back-end latency L | objects (user + policies) | time to all enacted | objects/s | critical path (driver objects) | bound = path x 3 calls x L | ratio to bound | state transitions per clean sync (min / mean / max) | transitions per object, all executions | DynamoDB calls per object |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |',
    ...r.scenarios.map(
      (s) =>
        `| ${s.latency_ms} ms | ${s.objects} (${s.written_by_user} + ${s.created_by_policies}) | ${s.time_to_all_enacted_s} s | ${s.objects_per_s} | ${s.critical_path_objects} | ${s.critical_path_bound_s} s | ${s.ratio_to_bound ?? 'n/a'} | ${s.transitions_per_clean_sync.min} / ${s.transitions_per_clean_sync.mean} / ${s.transitions_per_clean_sync.max} | ${s.transitions_per_object} | ${s.dynamodb_calls_per_object} |`,
    ),
    '',
    `Not enacted at the end: ${r.scenarios.map((s) => s.not_enacted).join(', ')}; duplicate back-end objects: ${r.scenarios.map((s) => s.duplicates_in_backend).join(', ')}. Part runtime ${Math.round(r.runtime_s)} s.`,
  ];
  return lines.join('\n');
}
