/**
 * A test stack with the synchronizer: the API stack of stack.ts plus a local sync runtime (real
 * stream poller, dispatch handler, the real ASL in aws-local-stepfunctions, step handlers) on the
 * same table, and a stand-in back-end that outlives runtimes (so a crash and a restart can be
 * checked for duplicates).
 */

import { type SyncRuntime, startSyncRuntime } from '../../infra/local/sync-runtime';
import { StandInCloud, type StandInOptions } from '../../shared/backends/standin';
import type { WorkflowStarter } from '../../shared/sync/contract';
import type { SyncOptions } from '../../shared/sync/steps';
import { startTestStack, type TestStack, testEndpoint } from './stack';

/** Fast timings for tests: ASL waits and retries scaled down, short leases and backoff. */
export const FAST_SYNC: Partial<SyncOptions> = {
  retryBaseMs: 200,
  retryCapMs: 800,
  leaseMs: 1_500,
  waitRecheckMs: 3_000,
  maxCheckPolls: 50,
};

/** The API, the synchronizer and the stand-in back-end. */
export interface SyncStack {
  readonly stack: TestStack;
  readonly cloud: StandInCloud;
  sync: SyncRuntime;
  /** Start another runtime on the same table and back-end (after stop() or crash()). */
  restart(): Promise<SyncRuntime>;
  create(plural: string, body: Record<string, unknown>): Promise<{ id: string; version: number }>;
  // biome-ignore lint/suspicious/noExplicitAny: objects are inspected dynamically in tests
  get(plural: string, id: string): Promise<any>;
  // biome-ignore lint/suspicious/noExplicitAny: objects are inspected dynamically in tests
  list(plural: string, query?: string): Promise<any[]>;
  // biome-ignore lint/suspicious/noExplicitAny: history entries are inspected dynamically in tests
  history(plural: string, id: string): Promise<any[]>;
  close(): Promise<void>;
}

/** Start a sync stack. */
export async function startSyncStack(
  options: { standIn?: StandInOptions; sync?: Partial<SyncOptions> } = {},
): Promise<SyncStack> {
  // The API starts resync executions in whichever runtime is current.
  const starter: WorkflowStarter = { start: (name, input) => s.sync.workflows.start(name, input) };
  const stack = await startTestStack({ starter });
  const cloud = new StandInCloud(options.standIn);
  const quiet = { error: () => undefined, info: () => undefined };
  const runtime = () =>
    startSyncRuntime({
      endpoint: testEndpoint(),
      tableName: stack.tableName,
      drivers: cloud,
      timeScale: 0.01,
      sweepIntervalMs: 0,
      options: { ...FAST_SYNC, ...(options.sync ?? {}) },
      log: quiet,
    });
  const core = (plural: string) => `/xosapi/v1/core/${plural}`;
  const s: SyncStack = {
    stack,
    cloud,
    sync: await runtime(),
    async restart() {
      s.sync = await runtime();
      return s.sync;
    },
    async create(plural, body) {
      const res = await stack.request('POST', core(plural), { body });
      if (res.status !== 201) throw new Error(`create ${plural}: ${res.status} ${res.text}`);
      return res.body;
    },
    async get(plural, id) {
      return (await stack.request('GET', `${core(plural)}/${id}`)).body;
    },
    async list(plural, query = '') {
      return (await stack.request('GET', `${core(plural)}?limit=1000${query ? `&${query}` : ''}`)).body.items;
    },
    async history(plural, id) {
      return (await stack.request('GET', `${core(plural)}/${id}/history?limit=500`)).body.items;
    },
    async close() {
      await s.sync.stop();
      await stack.close();
    },
  };
  return s;
}

/** A site bound to a deployment and an OpenStack controller, plus what instances need. */
export async function seedTopology(s: SyncStack, tag: string) {
  const deployment = await s.create('deployments', { name: `dep-${tag}` });
  const controller = await s.create('controllers', {
    name: `ctl-${tag}`,
    backend_type: 'openstack',
    deployment_id: deployment.id,
  });
  const site = await s.create('sites', { name: `site-${tag}`, login_base: `lb${tag}`, abbreviated_name: tag });
  await s.create('sitedeployments', { site_id: site.id, deployment_id: deployment.id, controller_id: controller.id });
  const template = await s.create('networktemplates', { name: `tpl-${tag}` });
  const image = await s.create('images', { name: `img-${tag}` });
  const flavor = await s.create('flavors', { name: `fl-${tag}` });
  return { deployment, controller, site, template, image, flavor };
}

/** A valid Instance body on a seeded topology (a vm on its image, flavor and deployment). */
export function instanceBody(
  t: Awaited<ReturnType<typeof seedTopology>>,
  sliceId: string,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { slice_id: sliceId, image_id: t.image.id, flavor_id: t.flavor.id, deployment_id: t.deployment.id, ...extra };
}

/** Poll until `check` passes (or time out with the last failure). */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
