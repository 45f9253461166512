/**
 * The ONOS driver against the stand-in in test mode: what it sends is held to ONOS's schemas, what
 * it is answered to the contract's statuses, and each kind's observe/create/update/delete does what
 * the original onos-service and vtn-service synchronizers did. The model is an in-memory lookup.
 */
import { type OnosStandIn, startOnosStandIn } from '../../../infra/local/standins/onos';
import type { DriverContext, ExternalClient } from '../../../shared/backends/driver';
import { onosBackend } from '../../../shared/backends/onos';
import { ONOS_RESOLVERS } from '../../../shared/backends/onos/placement';
import { RetryableBackendError, TerminalBackendError } from '../../../shared/errors';
import { MemorySecrets } from '../../../shared/secrets/secrets';
import type { StoredObject } from '../../../shared/store/store';
import { contractStatuses } from './contract';
import { loadOnosSchemas, schemaCheck } from './schemas';

const validators = loadOnosSchemas();
const check = validators ? schemaCheck(validators) : undefined;
const REPO = 'http://repo.example';

let onos: OnosStandIn;
const objects = new Map<string, StoredObject>();
let seq = 0;

function put(kind: string, fields: Record<string, unknown>): StoredObject {
  const obj = {
    kind,
    id: `${kind.toUpperCase()}${String(++seq).padStart(4, '0')}`,
    version: 1,
    deleted: false,
    ...fields,
  };
  objects.set(obj.id, obj as unknown as StoredObject);
  return obj as unknown as StoredObject;
}

const ctx = (controller?: StoredObject): DriverContext => ({
  related: new Map(),
  controller,
  lookup: {
    get: async (_kind, id) => objects.get(id),
    referencing: async (kind, field, target) =>
      [...objects.values()].filter((o) => o.kind === kind && o[field] === target && !o.deleted),
  },
});

let controller: StoredObject;
let client: (kind: string) => ExternalClient;
const secrets = new MemorySecrets();

beforeAll(async () => {
  onos = await startOnosStandIn({ check });
  secrets.set('onos-demo', { username: onos.username, password: onos.password });
  const deployment = put('Deployment', { name: 'dep-onos' });
  controller = put('Controller', {
    name: 'onos-1',
    backend_type: 'onos',
    auth_url: `${onos.url}/onos/v1/`,
    credentials_ref: 'onos-demo',
    deployment_id: deployment.id,
  });
  const backend = onosBackend(controller, { secrets });
  client = (kind) => {
    const c = backend.client(kind);
    if (!c) throw new Error(`no ONOS client for ${kind}`);
    return c;
  };
});
afterAll(async () => onos.stop());

/** observe, then create or update as the Sync step does; returns the handle. */
async function reconcile(obj: StoredObject) {
  const c = client(obj.kind);
  const seen = await c.observe(obj, ctx(controller));
  if (seen.exists && seen.upToDate) return seen.handle;
  const handle = seen.exists ? await c.update(obj, ctx(controller)) : await c.create(obj, ctx(controller));
  obj.backend_handle = handle;
  const after = await c.observe(obj, ctx(controller));
  expect(after).toMatchObject({ exists: true, upToDate: true, settled: true });
  return handle;
}

const app = (onos_app: Record<string, unknown>) =>
  put('ServiceInstance', {
    name: String(onos_app.app_id),
    owner_id: 'SERVICE',
    service_specific_attribute: { onos_app },
  });

describe('applications', () => {
  test('a bundled app is activated (with its required apps) and deactivated on delete', async () => {
    const si = app({ app_id: 'org.onosproject.openflow' });
    const seen = await client('ServiceInstance').observe(si, ctx(controller));
    expect(seen).toMatchObject({ exists: true, upToDate: false });
    expect(await reconcile(si)).toMatchObject({
      app_id: 'org.onosproject.openflow',
      version: '2.7.0',
      state: 'ACTIVE',
    });
    expect(onos.state.isActive('org.onosproject.openflow-base')).toBe(true);
    await client('ServiceInstance').delete(si, ctx(controller));
    expect(onos.state.apps.get('org.onosproject.openflow')?.state).toBe('INSTALLED');
  });

  test('a remote app is installed by URL with activate; a retry finds it; two racing installs meet 409 and both succeed', async () => {
    const si = app({ app_id: 'org.opencord.vtn', url: `${REPO}/org.opencord.vtn-1.2.0.oar`, version: '1.2.0' });
    expect(await client('ServiceInstance').observe(si, ctx(controller))).toMatchObject({ exists: false });
    expect(await reconcile(si)).toMatchObject({ version: '1.2.0', state: 'ACTIVE' });
    // The create ran, the record did not: the retry finds the app and installs nothing.
    await client('ServiceInstance').create(si, ctx(controller));
    const installs = () =>
      onos.requests.filter((r) => r.method === 'POST' && r.path === '/onos/v1/applications').map((r) => r.status);
    expect(installs()).toEqual([200]);
    const raced = app({ app_id: 'org.opencord.igmp', url: `${REPO}/org.opencord.igmp-2.0.0.oar`, version: '2.0.0' });
    const both = await Promise.all([1, 2].map(() => client('ServiceInstance').create(raced, ctx(controller))));
    expect(both).toEqual([
      expect.objectContaining({ version: '2.0.0' }),
      expect.objectContaining({ version: '2.0.0' }),
    ]);
    expect(installs()).toEqual([200, 200, 409]);
  });

  test('another version is uninstalled and reinstalled; a URL holding another version is a terminal error', async () => {
    const si = app({ app_id: 'org.opencord.sadis', url: `${REPO}/org.opencord.sadis-3.0.0.oar`, version: '3.0.0' });
    await reconcile(si);
    si.service_specific_attribute = {
      onos_app: { app_id: 'org.opencord.sadis', url: `${REPO}/org.opencord.sadis-3.1.0.oar`, version: '3.1.0' },
    };
    expect(await reconcile(si)).toMatchObject({ version: '3.1.0' });
    si.service_specific_attribute = {
      onos_app: { app_id: 'org.opencord.sadis', url: `${REPO}/org.opencord.sadis-3.2.0.oar`, version: '9.9.9' },
    };
    await expect(client('ServiceInstance').update(si, ctx(controller))).rejects.toThrow(
      /version 3\.2\.0 after installing .*wanted 9\.9\.9/,
    );
    await client('ServiceInstance').delete(si, ctx(controller));
    expect(onos.state.apps.has('org.opencord.sadis')).toBe(false);
  });

  test('an app waits (retryably) for its dependencies to be active; a url without a version is refused', async () => {
    const si = app({
      app_id: 'org.opencord.olt',
      url: `${REPO}/org.opencord.olt-4.0.0.oar`,
      version: '4.0.0',
      dependencies: 'org.opencord.nothing',
    });
    await expect(client('ServiceInstance').create(si, ctx(controller))).rejects.toThrow(RetryableBackendError);
    await expect(client('ServiceInstance').create(si, ctx(controller))).rejects.toThrow(
      /waits for app org.opencord.nothing/,
    );
    const bad = app({ app_id: 'org.opencord.olt', url: `${REPO}/org.opencord.olt-4.0.0.oar` });
    await expect(client('ServiceInstance').observe(bad, ctx(controller))).rejects.toThrow(TerminalBackendError);
  });
});

describe('configuration pushes', () => {
  const attr = (name: string, value: unknown) =>
    put('ServiceInstanceAttribute', { name, value: JSON.stringify(value), service_instance_id: 'SI' });

  test('netcfg at a config key: pushed, observed, changed, removed', async () => {
    const a = attr('/onos/v1/network/configuration/apps/org.opencord.vtn/cordvtn', {
      privateGatewayMac: '00:00:00:00:00:01',
    });
    await reconcile(a);
    expect(onos.state.readConfig('apps', 'org.opencord.vtn', 'cordvtn')).toEqual({
      privateGatewayMac: '00:00:00:00:00:01',
    });
    a.value = JSON.stringify({ privateGatewayMac: '00:00:00:00:00:02' });
    expect(await client(a.kind).observe(a, ctx(controller))).toMatchObject({ exists: true, upToDate: false });
    await reconcile(a);
    await client(a.kind).delete(a, ctx(controller));
    expect(() => onos.state.readConfig('apps', 'org.opencord.vtn', 'cordvtn')).toThrow(/not found/);
  });

  test('a subject-level push merges with what else is there; a queued config is a retryable "not in effect"', async () => {
    const a = attr('/onos/v1/network/configuration/devices/of:0000000000000001', { basic: { name: 'leaf-1' } });
    onos.state.applyConfig(['devices', 'of:0000000000000001', 'other'], { keep: true });
    await reconcile(a);
    expect(onos.state.readConfig('devices', 'of:0000000000000001')).toEqual({
      basic: { name: 'leaf-1' },
      other: { keep: true },
    });
    const queued = attr('/onos/v1/network/configuration/apps/org.example.inactive/cfg', { on: true });
    await expect(client(queued.kind).create(queued, ctx(controller))).rejects.toThrow(/not in effect/);
  });

  test('a 207 partial reply is a terminal failure carrying every ONOS message', async () => {
    const a = attr('/onos/v1/network/configuration', {
      nosuch: { x: { y: {} } },
      devices: { 'of:0000000000000001': { basic: {} } },
    });
    const err = await client(a.kind)
      .create(a, ctx(controller))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerminalBackendError);
    expect((err as Error).message).toMatch(/HTTP 207.*207 subjectClassKey 'nosuch' not found/);
  });

  test('component configuration (with ?preset=true) is read back by property; a ServiceAttribute works the same', async () => {
    const c = 'org.onosproject.provider.lldp.impl.LldpLinkProvider';
    const a = put('ServiceAttribute', {
      name: `/onos/v1/configuration/${c}?preset=true`,
      value: '{"probeRate": 7000}',
      service_id: 'S',
    });
    await reconcile(a);
    expect(onos.state.components.get(c)?.get('probeRate')).toBe('7000');
    await client(a.kind).delete(a, ctx(controller));
    expect(onos.state.components.get(c)?.get('probeRate')).toBe('3000');
  });

  test('a value that is not JSON is terminal', async () => {
    const a = put('ServiceInstanceAttribute', {
      name: '/onos/v1/network/configuration/apps/x/y',
      value: '{oops',
      service_instance_id: 'SI',
    });
    await expect(client(a.kind).observe(a, ctx(controller))).rejects.toThrow(/not JSON/);
  });
});

describe('VTN networks and service dependencies', () => {
  const site = put('Site', { name: 'site-vtn' });
  const onosTemplate = put('NetworkTemplate', { name: 'tpl-vtn', controller_kind: 'onos', vtn_kind: 'PRIVATE' });
  const service = (name: string, extra: Record<string, unknown> = {}) =>
    put('Service', { name, site_id: site.id, ...extra });
  const network = (svc: StoredObject, name: string, subnet: string) => {
    const slice = put('Slice', { name: `slice-${name}`, site_id: site.id, service_id: svc.id });
    return put('Network', { name, subnet, template_id: onosTemplate.id, owner_id: slice.id });
  };
  const vsg = service('vsg');
  const vrouter = service('vrouter', {
    service_specific_attribute: { vn_gateway: { device_id: 'of:0000000000000001', uplink_port: 1, downlink_port: 2 } },
  });
  const privateDependency = () =>
    put('ServiceDependency', {
      provider_service_id: vrouter.id,
      subscriber_service_id: vsg.id,
      connect_method: 'private',
    });
  const subNet = network(vsg, 'vsg-net', '10.3.0.0/24');
  const provNet = network(vrouter, 'vrouter-net', '10.4.0.0/24');

  test('a network waits for the VTN app, then is a ServiceNetwork; its fields follow the XOS network', async () => {
    onos.state.deactivate('org.opencord.vtn');
    await expect(client('Network').observe(subNet, ctx(controller))).rejects.toThrow(/waits for app org.opencord.vtn/);
    onos.state.activate('org.opencord.vtn');
    await reconcile(subNet);
    await reconcile(provNet);
    expect(onos.state.serviceNetworks.get(subNet.id)).toMatchObject({
      id: subNet.id,
      name: 'vsg-net',
      type: 'PRIVATE',
      subnet: '10.3.0.0/24',
      service_ip: '10.3.0.1',
    });
  });

  test('connect_method private links the provider networks (bidirectional); the network keeps them on its own update', async () => {
    const dep = privateDependency();
    await reconcile(dep);
    expect(onos.state.serviceNetworks.get(subNet.id)?.providers).toEqual([{ id: provNet.id, bidirectional: true }]);
    subNet.name = 'vsg-net-2';
    await reconcile(subNet);
    expect(onos.state.serviceNetworks.get(subNet.id)).toMatchObject({
      name: 'vsg-net-2',
      providers: [{ id: provNet.id, bidirectional: true }],
    });
    await client(dep.kind).delete(dep, ctx(controller));
    expect(onos.state.serviceNetworks.get(subNet.id)?.providers).toEqual([]);
  });

  test('connect_method public is the VN gateway: flow rules on the gateway switch, replaced links removed, delete removes the rules', async () => {
    const dep = privateDependency();
    await reconcile(dep);
    dep.connect_method = 'public';
    const handle = await reconcile(dep);
    expect(onos.state.serviceNetworks.get(subNet.id)?.providers).toEqual([]);
    const flows = [...onos.state.flows.values()].filter((f) => f.appId === 'org.opencord.xos');
    expect(flows).toHaveLength(2);
    expect(flows.map((f) => f.selector.criteria[1])).toEqual(
      expect.arrayContaining([
        { type: 'IPV4_SRC', ip: '10.3.0.0/24' },
        { type: 'IPV4_DST', ip: '10.3.0.0/24' },
      ]),
    );
    expect((handle as { flows: unknown[] }).flows).toHaveLength(2);
    // Drift: a rule deleted by hand is seen and put back.
    onos.state.flows.delete(flows[0]!.id);
    expect(await client(dep.kind).observe(dep, ctx(controller))).toMatchObject({ upToDate: false });
    await reconcile(dep);
    await client(dep.kind).delete(dep, ctx(controller));
    expect([...onos.state.flows.values()].filter((f) => f.appId === 'org.opencord.xos')).toEqual([]);
  });

  test('public without a declared gateway is terminal, naming what to set', async () => {
    const plain = service('plain');
    const dep = put('ServiceDependency', {
      provider_service_id: plain.id,
      subscriber_service_id: vsg.id,
      connect_method: 'public',
    });
    await expect(client(dep.kind).create(dep, ctx(controller))).rejects.toThrow(/vn_gateway \{device_id, uplink_port/);
  });

  test('delete of a network removes its ServiceNetwork; absent counts as removed', async () => {
    const n = network(vsg, 'tmp-net', '10.5.0.0/24');
    await reconcile(n);
    await client('Network').delete(n, ctx(controller));
    await client('Network').delete(n, ctx(controller));
    expect(onos.state.serviceNetworks.has(n.id)).toBe(false);
  });

  test('placement: apps, attributes, onos networks and dependencies go to the site ONOS; other objects nowhere', async () => {
    put('SiteDeployment', { site_id: site.id, deployment_id: controller.deployment_id, controller_id: controller.id });
    const c = ctx();
    const si = put('ServiceInstance', {
      owner_id: vsg.id,
      service_specific_attribute: { onos_app: { app_id: 'org.onosproject.fwd' } },
    });
    expect((await ONOS_RESOLVERS.ServiceInstance!(si, c))?.id).toBe(controller.id);
    expect(await ONOS_RESOLVERS.ServiceInstance!(put('ServiceInstance', { owner_id: vsg.id }), c)).toBeUndefined();
    const a = put('ServiceInstanceAttribute', {
      name: '/onos/v1/network/configuration',
      value: '{}',
      service_instance_id: si.id,
    });
    expect((await ONOS_RESOLVERS.ServiceInstanceAttribute!(a, c))?.id).toBe(controller.id);
    const notOnos = put('ServiceInstanceAttribute', { name: 'color', value: 'red', service_instance_id: si.id });
    expect(await ONOS_RESOLVERS.ServiceInstanceAttribute!(notOnos, c)).toBeUndefined();
    expect((await ONOS_RESOLVERS.Network!(subNet, c))?.id).toBe(controller.id);
    const plainTemplate = put('NetworkTemplate', { name: 'tpl-plain' });
    const plainNet = put('Network', { name: 'plain', template_id: plainTemplate.id, owner_id: subNet.owner_id });
    expect(await ONOS_RESOLVERS.Network!(plainNet, c)).toBeUndefined();
    const dep = put('ServiceDependency', { provider_service_id: vrouter.id, subscriber_service_id: vsg.id });
    expect((await ONOS_RESOLVERS.ServiceDependency!(dep, c))?.id).toBe(controller.id);
  });
});

describe('credentials and the wire', () => {
  test('wrong credentials: a 401 whose message names the secret, never the password', async () => {
    const wrong = new MemorySecrets();
    wrong.set('onos-demo', { username: 'onos', password: 'not-the-password' });
    const backend = onosBackend(controller, { secrets: wrong });
    const si = app({ app_id: 'org.onosproject.fwd' });
    const err = (await backend
      .client('ServiceInstance')!
      .observe(si, ctx(controller))
      .catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/HTTP 401.*credentials of onos-demo refused/);
    expect(err.message).not.toContain('not-the-password');
  });

  test('ONOS schemas are not vacuous: a rule without treatment.deferred and an app without readme are refused', () => {
    if (!check) return console.warn('ONOS schema checks skipped: swagger folder missing');
    const rule = { priority: 1, timeout: 0, isPermanent: true, deviceId: 'of:1', treatment: { instructions: [] } };
    expect(check('FlowsPost', rule)).toMatch(/deferred/);
    expect(check('Application', { name: 'x' })).toMatch(/readme/);
  });

  test('every body the driver sent matched ONOS’s schemas, and every status it got is the contract’s', () => {
    expect(onos.violations).toEqual([]);
    const outside: string[] = [];
    for (const r of onos.requests) {
      const allowed = contractStatuses(r.method, r.path);
      if (!allowed) outside.push(`${r.method} ${r.path}`);
      else if (!allowed.includes(r.status)) outside.push(`${r.method} ${r.path} -> ${r.status}`);
    }
    expect(outside).toEqual([]);
  });
});
