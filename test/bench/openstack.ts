/**
 * The OpenStack part of `npm run bench`: convergence of instances through the OpenStack driver,
 * against a REAL OpenStack (bin/openstack/up.sh; used if already running, started and stopped
 * otherwise, skipped with the reason where it cannot run) beside the same run on the in-process
 * stand-in. Per scenario: a site, slice, network, image and flavor, plus one warm-up instance,
 * are brought to enacted (projects, network, image and flavor exist); then N instances are written
 * at once and timed per instance from the write to ACTIVE in Nova (polled every 250 ms) and to
 * enacted in XOS; finally the slice is deleted and timed until everything is purged.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local';
import { type OpenStackStandInKnobs, startOpenStackStandIn } from '../../infra/local/standins/openstack';
import { startSyncRuntime } from '../../infra/local/sync-runtime';
import { composeApi, dynamoClientConfig } from '../../shared/adapters/compose';
import { ensureTable } from '../../shared/adapters/dynamodb/create-table';
import { OpenStackApi } from '../../shared/backends/openstack/api';
import { openstackBackendWith, openstackControllerFields } from '../../shared/backends/openstack/backend';
import { resourceName } from '../../shared/backends/openstack/names';
import { type AdminLogin, adminSession } from '../../shared/backends/openstack/session';
import { BackendRouter } from '../../shared/backends/router';
import { requireModel } from '../../shared/model/registry';
import { SYNCHRONIZER } from '../../shared/policies';
import { MemorySecrets } from '../../shared/secrets/secrets';
import { OPENSTACK_SYNC } from '../drivers/openstack/openstack-stack';
import { acquireRealOpenStack, realOpenStackUnavailable } from '../drivers/openstack/real-openstack';
import type { BenchContext } from './api';
import { round } from './load';

/** Milliseconds summarized. */
export interface Spread {
  readonly p50_s: number;
  readonly max_s: number;
}

/** One scenario's figures. */
export interface OpenStackScenarioResult {
  readonly name: 'real' | 'stand-in';
  readonly instances: number;
  /** Base graph plus the warm-up instance, from the first write to enacted. */
  readonly warmup_s: number;
  readonly time_to_all_enacted_s: number;
  readonly instances_per_minute: number;
  readonly write_to_active: Spread;
  readonly write_to_enacted: Spread;
  /** How long after ACTIVE the synchronizer recorded enacted. */
  readonly active_to_enacted: Spread;
  readonly slice_delete_to_purged_s: number;
  readonly keystone_authentications: number;
  readonly knobs?: OpenStackStandInKnobs;
  readonly not_enacted: number;
}

/** The part's result. */
export interface OpenStackBenchResult {
  readonly valid: boolean;
  readonly problems: string[];
  readonly scenarios: OpenStackScenarioResult[];
  readonly skipped?: string;
  /** Seconds to start the real OpenStack (0: one was already running). */
  readonly real_startup_s?: number;
}

/** Stand-in timings modelled on the real stack (API.md: ACTIVE in 4-8 s, 404 about 1.7 s after delete). */
const STAND_IN_KNOBS: OpenStackStandInKnobs = { buildMs: 5_000, deleteMs: 1_700, latencyMs: 20 };

const spread = (values: number[]): Spread => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50_s: round(at(0.5) / 1000, 2), max_s: round((sorted[sorted.length - 1] ?? 0) / 1000, 2) };
};

async function runScenario(
  ctx: BenchContext,
  name: OpenStackScenarioResult['name'],
  target: AdminLogin,
  count: number,
): Promise<OpenStackScenarioResult> {
  const ddb = await startDynamoDbLocal();
  ctx.defer(() => ddb.stop());
  if (ddb.pid !== undefined) ctx.trackProcess(`DynamoDB Local (${name})`, ddb.pid);
  const tableName = `xos-bench-openstack-${Date.now().toString(36)}`;
  const client = new DynamoDBClient(dynamoClientConfig(ddb.endpoint));
  await ensureTable(client, tableName);
  const quiet = { error: () => undefined, info: () => undefined };
  const composed = composeApi({ tableName, dynamodbEndpoint: ddb.endpoint, tokenSecret: 'x'.repeat(32), log: quiet });
  const secrets = new MemorySecrets();
  secrets.set('bench-openstack', { password: target.adminPassword });
  const runtime = await startSyncRuntime({
    endpoint: ddb.endpoint,
    tableName,
    drivers: new BackendRouter({
      factories: { openstack: openstackBackendWith({ pollMs: 250 }) },
      secrets,
      log: quiet,
    }),
    ...OPENSTACK_SYNC,
    options: { ...OPENSTACK_SYNC.options, maxCheckPolls: 600 },
    log: quiet,
  });
  ctx.defer(() => runtime.stop());
  const api = new OpenStackApi(adminSession(target));
  const m = requireModel;
  const store = composed.store;
  const objects = composed.objects;
  // Slices and instances record their creator: write as a real admin user (as the API would).
  let caller = SYNCHRONIZER;
  const mk = (kind: string, body: Record<string, unknown>) => objects.create(m(kind), body, caller);
  const enacted = async (kind: string, id: string) => {
    const o = await store.get(kind, id);
    return o !== undefined && o.backend_code === 1 && o.enacted_version === o.version;
  };
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${name}: ${what} did not happen within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const tag = Date.now().toString(36);
  ctx.log(`openstack ${name}: base graph and a warm-up instance`);
  const t0 = Date.now();
  const deployment = await mk('Deployment', { name: `bench-${tag}` });
  const controller = await mk('Controller', {
    name: `bench-${name}-${tag}`,
    ...openstackControllerFields(target, 'bench-openstack'),
    deployment_id: deployment.id,
  });
  const site = await mk('Site', { name: `bench-${tag}`, login_base: `b${tag}`, abbreviated_name: `b${tag}` });
  const admin = await mk('User', { email: `bench-${tag}@xos.local`, is_admin: true, site_id: site.id });
  caller = { userId: admin.id, email: `bench-${tag}@xos.local`, isAdmin: true };
  await mk('SiteDeployment', { site_id: site.id, deployment_id: deployment.id, controller_id: controller.id });
  const slice = await mk('Slice', { name: `bench_${tag}`, site_id: site.id, max_instances: count + 2 });
  const template = await mk('NetworkTemplate', { name: `bench-${tag}` });
  await mk('Network', { name: `bench-${tag}`, template_id: template.id, owner_id: slice.id, subnet: '10.88.0.0/24' });
  const image = await mk('Image', { name: `bench-${tag}`, disk_format: 'raw', container_format: 'bare' });
  const flavor = await mk('Flavor', { name: `xos-bench-${tag}` });
  const instance = (n: string) =>
    mk('Instance', {
      name: n,
      slice_id: slice.id,
      image_id: image.id,
      flavor_id: flavor.id,
      deployment_id: deployment.id,
    });
  const warm = await instance('warm-up');
  await waitFor('the warm-up instance', () => enacted('Instance', warm.id), 10 * 60_000);
  const warmupS = (Date.now() - t0) / 1000;

  ctx.log(`openstack ${name}: ${count} instances at once`);
  const written = new Map<string, number>();
  const active = new Map<string, number>();
  const done = new Map<string, number>();
  const tStart = Date.now();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const vm = await instance(`vm-${i}`);
      written.set(vm.id, Date.now());
    }),
  );
  const byName = new Map([...written.keys()].map((id) => [resourceName('instance', id), id]));
  const deadline = Date.now() + 15 * 60_000;
  while (done.size < count && Date.now() < deadline) {
    const servers = await api.session.call('compute', 'GET', '/servers/detail?all_tenants=1&name=^xos-instance-', {
      action: 'list servers',
    });
    for (const s of (servers.body as { servers: Array<{ name: string; status: string }> }).servers) {
      const id = byName.get(s.name);
      if (id && s.status === 'ACTIVE' && !active.has(id)) active.set(id, Date.now());
    }
    for (const id of written.keys()) if (!done.has(id) && (await enacted('Instance', id))) done.set(id, Date.now());
    await new Promise((r) => setTimeout(r, 250));
  }
  const allEnactedS = (Date.now() - tStart) / 1000;
  const ids = [...written.keys()];
  const since = (m2: Map<string, number>) =>
    ids.filter((id) => m2.has(id)).map((id) => (m2.get(id) ?? 0) - (written.get(id) ?? 0));

  ctx.log(`openstack ${name}: deleting the slice`);
  const tDel = Date.now();
  const stored = await store.get('Slice', slice.id);
  if (stored) await objects.delete(m('Slice'), slice.id);
  await waitFor('the slice purge', async () => (await store.get('Slice', slice.id)) === undefined, 10 * 60_000);
  await waitFor(
    'the slice project removal',
    async () => (await api.findProject(resourceName('slice', slice.id))) === undefined,
    5 * 60_000,
  );
  const deleteS = (Date.now() - tDel) / 1000;
  await runtime.stop();
  client.destroy();
  await ddb.stop();
  return {
    name,
    instances: count,
    warmup_s: round(warmupS, 1),
    time_to_all_enacted_s: round(allEnactedS, 1),
    instances_per_minute: round((done.size / allEnactedS) * 60, 1),
    write_to_active: spread(since(active)),
    write_to_enacted: spread(since(done)),
    active_to_enacted: spread(
      ids.filter((id) => active.has(id) && done.has(id)).map((id) => (done.get(id) ?? 0) - (active.get(id) ?? 0)),
    ),
    slice_delete_to_purged_s: round(deleteS, 1),
    keystone_authentications: api.session.authentications,
    not_enacted: count - done.size,
  };
}

/** Run the part: the stand-in, then the real OpenStack where it can run. */
export async function runOpenStackBench(ctx: BenchContext): Promise<OpenStackBenchResult> {
  const count = Number(process.env.XOS_BENCH_OPENSTACK_INSTANCES || (ctx.quick ? 2 : 6));
  const problems: string[] = [];
  const scenarios: OpenStackScenarioResult[] = [];
  const standIn = await startOpenStackStandIn(STAND_IN_KNOBS);
  ctx.defer(() => standIn.stop());
  const fake = await runScenario(ctx, 'stand-in', standIn, count);
  scenarios.push({ ...fake, knobs: STAND_IN_KNOBS });
  await standIn.stop();
  const skipped = realOpenStackUnavailable('the OpenStack benchmark');
  let realStartup: number | undefined;
  if (skipped) problems.push(`real OpenStack skipped: ${skipped}`);
  else {
    ctx.log('openstack real: acquiring a real OpenStack (bin/openstack/up.sh unless one is running)');
    const real = await acquireRealOpenStack();
    ctx.defer(() => real.release());
    realStartup = real.startedInS;
    try {
      scenarios.push(await runScenario(ctx, 'real', real.target, count));
    } finally {
      await real.release();
    }
  }
  for (const s of scenarios) if (s.not_enacted > 0) problems.push(`${s.name}: ${s.not_enacted} instances not enacted`);
  return {
    valid: problems.filter((p) => !p.startsWith('real OpenStack skipped')).length === 0,
    problems,
    scenarios,
    skipped,
    real_startup_s: realStartup,
  };
}

/** The part's tables for docs/benchmarks.md. */
export function renderOpenStackMarkdown(outcome: {
  ok: boolean;
  result?: OpenStackBenchResult;
  error?: string;
  run: { date: string; git: { commit: string } };
}): string {
  if (!outcome.ok || !outcome.result) return `Run of ${outcome.run.date} failed: ${outcome.error ?? 'unknown error'}`;
  const r = outcome.result;
  const rows = r.scenarios.map(
    (s) =>
      `| ${s.name} | ${s.instances} | ${s.time_to_all_enacted_s} | ${s.instances_per_minute} | ${s.write_to_active.p50_s} / ${s.write_to_active.max_s} | ${s.write_to_enacted.p50_s} / ${s.write_to_enacted.max_s} | ${s.active_to_enacted.p50_s} | ${s.warmup_s} | ${s.slice_delete_to_purged_s} | ${s.not_enacted} |`,
  );
  return [
    `Run of ${outcome.run.date} at ${outcome.run.git.commit}${r.valid ? '' : ' (NOT VALID)'}${r.real_startup_s ? `; starting the real OpenStack took ${r.real_startup_s} s` : ''}.`,
    '',
    '| back-end | instances at once | all enacted (s) | instances/min | write -> ACTIVE p50 / max (s) | write -> enacted p50 / max (s) | ACTIVE -> enacted p50 (s) | base graph + warm-up (s) | slice delete -> purged (s) | not enacted |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    r.problems.length > 0 ? `Problems: ${r.problems.join('; ')}.` : '',
  ].join('\n');
}
