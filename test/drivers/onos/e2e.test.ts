/**
 * ONOS end to end: the XOS API on DynamoDB Local, the local synchronizer (stream poller, dispatch,
 * the real ASL, step handlers) with BackendRouter(onos factory, MemorySecrets), and the ONOS
 * stand-in in test mode. Objects created through the API become enacted, the stand-in holds what
 * they mean, and deleting them through the API removes it.
 */
import { type OnosStandIn, startOnosStandIn } from '../../../infra/local/standins/onos';
import { type SyncRuntime, startSyncRuntime } from '../../../infra/local/sync-runtime';
import { ONOS_RESOLVERS, onosBackend } from '../../../shared/backends/onos';
import { BackendRouter } from '../../../shared/backends/router';
import { MemorySecrets } from '../../../shared/secrets/secrets';
import { startTestStack, type TestStack, testEndpoint } from '../../helpers/stack';
import { eventually, FAST_SYNC } from '../../helpers/sync-stack';
import { contractStatuses } from './contract';
import { loadOnosSchemas, schemaCheck } from './schemas';

const validators = loadOnosSchemas();
const REPO = 'http://repo.example';

let onos: OnosStandIn;
let stack: TestStack;
let sync: SyncRuntime;

const core = (plural: string) => `/xosapi/v1/core/${plural}`;
async function create(plural: string, body: Record<string, unknown>): Promise<{ id: string }> {
  const res = await stack.request('POST', core(plural), { body });
  if (res.status !== 201) throw new Error(`create ${plural}: ${res.status} ${res.text}`);
  return res.body;
}
// biome-ignore lint/suspicious/noExplicitAny: objects are inspected dynamically in tests
const read = async (plural: string, id: string): Promise<any> =>
  (await stack.request('GET', `${core(plural)}/${id}`)).body;
async function remove(plural: string, id: string): Promise<void> {
  const res = await stack.request('DELETE', `${core(plural)}/${id}`);
  if (res.status >= 300) throw new Error(`delete ${plural}: ${res.status} ${res.text}`);
}

/** Wait until every object is enacted (backend_code 1); sweeps restart what backed off. */
async function enacted(items: Readonly<Record<string, readonly string[]>>): Promise<void> {
  await eventually(
    async () => {
      await sync.sweep({ graceMs: 0 });
      for (const [plural, id] of Object.entries(items).flatMap(([p, ids]) => ids.map((i) => [p, i] as const))) {
        const o = await read(plural, id);
        if (o.backend_code !== 1 || o.enacted_version !== o.version)
          throw new Error(`${plural} ${id}: ${o.backend_code} ${o.backend_status}`);
      }
    },
    45_000,
    300,
  );
}

async function purged(plural: string, id: string): Promise<void> {
  await eventually(
    async () => {
      await sync.sweep({ graceMs: 0 });
      const res = await stack.request('GET', `${core(plural)}/${id}`);
      if (res.status !== 404) throw new Error(`${plural} ${id} still there: ${res.body?.backend_status}`);
    },
    45_000,
    300,
  );
}

beforeAll(async () => {
  onos = await startOnosStandIn({ check: validators ? schemaCheck(validators) : undefined });
  const secrets = new MemorySecrets();
  secrets.set('onos-e2e', { username: onos.username, password: onos.password });
  const drivers = new BackendRouter({ factories: { onos: onosBackend }, resolvers: ONOS_RESOLVERS, secrets });
  const starter = {
    start: (name: string, input: Parameters<SyncRuntime['workflows']['start']>[1]) => sync.workflows.start(name, input),
  };
  stack = await startTestStack({ starter });
  sync = await startSyncRuntime({
    endpoint: testEndpoint(),
    tableName: stack.tableName,
    drivers,
    timeScale: 0.01,
    sweepIntervalMs: 0,
    options: FAST_SYNC,
    log: { error: () => undefined, info: () => undefined },
  });
});
afterAll(async () => {
  await sync?.stop();
  await stack?.close();
  await onos?.stop();
});

test('apps, config, VTN networks and a service dependency become enacted in ONOS; deleting them removes them', async () => {
  const deployment = await create('deployments', { name: 'dep-onos-e2e' });
  const controller = await create('controllers', {
    name: 'onos-e2e',
    backend_type: 'onos',
    auth_url: `${onos.url}/onos/v1`,
    credentials_ref: 'onos-e2e',
    deployment_id: deployment.id,
  });
  const site = await create('sites', { name: 'site-onos', login_base: 'onos', abbreviated_name: 'onos' });
  await create('sitedeployments', { site_id: site.id, deployment_id: deployment.id, controller_id: controller.id });

  // The VTN app (remote, by URL) and its configuration.
  const vtnService = await create('services', { name: 'vtn', site_id: site.id });
  const vtnApp = await create('serviceinstances', {
    name: 'vtn-app',
    owner_id: vtnService.id,
    service_specific_attribute: {
      onos_app: { app_id: 'org.opencord.vtn', url: `${REPO}/org.opencord.vtn-1.2.0.oar`, version: '1.2.0' },
    },
  });
  const fwdApp = await create('serviceinstances', {
    name: 'fwd-app',
    owner_id: vtnService.id,
    service_specific_attribute: { onos_app: { app_id: 'org.onosproject.fwd' } },
  });
  const cordvtn = { privateGatewayMac: '00:00:00:00:00:01', ovsdbPort: '6640' };
  const attr = await create('serviceinstanceattributes', {
    name: '/onos/v1/network/configuration/apps/org.opencord.vtn/cordvtn',
    value: JSON.stringify(cordvtn),
    service_instance_id: vtnApp.id,
  });

  // Two services with VTN-managed data networks, composed privately.
  const template = await create('networktemplates', {
    name: 'tpl-onos-e2e',
    controller_kind: 'onos',
    vtn_kind: 'PRIVATE',
  });
  const vsg = await create('services', { name: 'vsg', site_id: site.id });
  const vrouter = await create('services', { name: 'vrouter', site_id: site.id });
  const vsgSlice = await create('slices', { name: 'onos_vsg', site_id: site.id, service_id: vsg.id });
  const vrouterSlice = await create('slices', { name: 'onos_vrouter', site_id: site.id, service_id: vrouter.id });
  const vsgNet = await create('networks', {
    name: 'vsg-data',
    subnet: '10.3.0.0/24',
    template_id: template.id,
    owner_id: vsgSlice.id,
  });
  const vrNet = await create('networks', {
    name: 'vrouter-data',
    subnet: '10.4.0.0/24',
    template_id: template.id,
    owner_id: vrouterSlice.id,
  });
  const dep = await create('servicedependencies', {
    provider_service_id: vrouter.id,
    subscriber_service_id: vsg.id,
    connect_method: 'private',
  });

  await enacted({
    serviceinstances: [vtnApp.id, fwdApp.id],
    serviceinstanceattributes: [attr.id],
    networks: [vsgNet.id, vrNet.id],
    servicedependencies: [dep.id],
  });
  expect(await read('serviceinstances', vtnApp.id)).toMatchObject({
    backend_status: 'OK',
    backend_handle: { app_id: 'org.opencord.vtn', version: '1.2.0', state: 'ACTIVE' },
  });
  expect(onos.state.isActive('org.opencord.vtn')).toBe(true);
  expect(onos.state.isActive('org.onosproject.fwd')).toBe(true);
  expect(onos.state.readConfig('apps', 'org.opencord.vtn', 'cordvtn')).toEqual(cordvtn);
  expect(onos.state.serviceNetworks.get(vsgNet.id)).toMatchObject({
    name: 'vsg-data',
    type: 'PRIVATE',
    subnet: '10.3.0.0/24',
    providers: [{ id: vrNet.id, bidirectional: true }],
  });
  expect(onos.state.serviceNetworks.has(vrNet.id)).toBe(true);

  // Delete through the API: each is removed from ONOS, then purged.
  await remove('servicedependencies', dep.id);
  await purged('servicedependencies', dep.id);
  expect(onos.state.serviceNetworks.get(vsgNet.id)?.providers).toEqual([]);
  await remove('serviceinstanceattributes', attr.id);
  await purged('serviceinstanceattributes', attr.id);
  expect(() => onos.state.readConfig('apps', 'org.opencord.vtn', 'cordvtn')).toThrow(/not found/);
  await remove('networks', vsgNet.id);
  await purged('networks', vsgNet.id);
  expect(onos.state.serviceNetworks.has(vsgNet.id)).toBe(false);
  await remove('serviceinstances', fwdApp.id);
  await purged('serviceinstances', fwdApp.id);
  expect(onos.state.apps.get('org.onosproject.fwd')?.state).toBe('INSTALLED');

  expect(onos.violations).toEqual([]);
  const outside = onos.requests
    .filter((r) => !contractStatuses(r.method, r.path)?.includes(r.status))
    .map((r) => `${r.method} ${r.path} -> ${r.status}`);
  expect(outside).toEqual([]);
}, 120_000);
