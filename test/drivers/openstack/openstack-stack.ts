/**
 * A test stack that synchronizes to an OpenStack: the API stack (DynamoDB Local, the unchanged
 * handler over HTTP) plus the local sync runtime whose driver router is the production
 * BackendRouter with the OpenStack factory and a MemorySecrets holding the admin password, and a
 * seeded deployment + controller pointing at the given OpenStack.
 */
import { type SyncRuntime, startSyncRuntime } from '../../../infra/local/sync-runtime';
import { OpenStackApi } from '../../../shared/backends/openstack/api';
import { openstackBackendWith, openstackControllerFields } from '../../../shared/backends/openstack/backend';
import { type AdminLogin, adminSession } from '../../../shared/backends/openstack/session';
import { BackendRouter } from '../../../shared/backends/router';
import { MemorySecrets } from '../../../shared/secrets/secrets';
import type { WorkflowStarter } from '../../../shared/sync/contract';
import { startTestStack, type TestStack, testEndpoint } from '../../helpers/stack';
import type { SyncStack } from '../../helpers/sync-stack';

/** The running stack. */
export interface OpenStackSyncStack extends Pick<SyncStack, 'create' | 'get' | 'list' | 'history' | 'close'> {
  readonly stack: TestStack;
  readonly sync: SyncRuntime;
  /** The OpenStack's own APIs, as its admin (for checks behind XOS's back). */
  readonly api: OpenStackApi;
  readonly deployment: { id: string };
  readonly controller: { id: string };
}

/**
 * Synchronizer timings against a (real) OpenStack: ASL waits and retries at a quarter of their
 * length (Check polls every 0.5 s, for up to 400 polls), quick backoff, a sweeper every second.
 */
export const OPENSTACK_SYNC = {
  timeScale: 0.25,
  sweepIntervalMs: 1_000,
  sweepGraceMs: 1_000,
  driftEvery: 0,
  options: { retryBaseMs: 500, retryCapMs: 2_000, leaseMs: 120_000, waitRecheckMs: 5_000, maxCheckPolls: 400 },
} as const;

/** Start the stack and seed a deployment and an OpenStack controller. */
export async function startOpenStackSyncStack(
  target: AdminLogin,
  options: { maxCheckPolls?: number } = {},
): Promise<OpenStackSyncStack> {
  let sync: SyncRuntime | undefined;
  const starter: WorkflowStarter = { start: (name, input) => (sync as SyncRuntime).workflows.start(name, input) };
  const stack = await startTestStack({ starter });
  const secrets = new MemorySecrets();
  secrets.set('openstack-admin', { password: target.adminPassword });
  const quiet = { error: () => undefined, info: () => undefined };
  const drivers = new BackendRouter({
    factories: { openstack: openstackBackendWith({ deleteWaitMs: 60_000, pollMs: 250 }) },
    secrets,
    log: quiet,
  });
  sync = await startSyncRuntime({
    endpoint: testEndpoint(),
    tableName: stack.tableName,
    drivers,
    ...OPENSTACK_SYNC,
    options: { ...OPENSTACK_SYNC.options, maxCheckPolls: options.maxCheckPolls ?? 400 },
    log: quiet,
  });
  const core = (plural: string) => `/xosapi/v1/core/${plural}`;
  const create: OpenStackSyncStack['create'] = async (plural, body) => {
    const res = await stack.request('POST', core(plural), { body });
    if (res.status !== 201) throw new Error(`create ${plural}: ${res.status} ${res.text}`);
    return res.body;
  };
  const deployment = await create('deployments', { name: `dep-os-${Date.now().toString(36)}` });
  const controller = await create('controllers', {
    name: `openstack-${Date.now().toString(36)}`,
    ...openstackControllerFields(target, 'openstack-admin'),
    deployment_id: deployment.id,
  });
  const api = new OpenStackApi(adminSession(target));
  const read = async (path: string) => (await stack.request('GET', core(path))).body;
  return {
    stack,
    sync,
    api,
    deployment,
    controller,
    create,
    get: (plural, id) => read(`${plural}/${id}`),
    list: async (plural, query = '') => (await read(`${plural}?limit=1000${query ? `&${query}` : ''}`)).items,
    history: async (plural, id) => (await read(`${plural}/${id}/history?limit=500`)).items,
    async close() {
      await sync?.stop();
      await stack.close();
    },
  };
}
