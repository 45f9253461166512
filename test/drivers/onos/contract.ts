/**
 * The ONOS REST contract (../shared/peers/onos/API.md) as one suite that runs unchanged against any
 * ONOS: the stand-in here, a real ONOS where one runs (ONOS_URL, ONOS_USER, ONOS_PASSWORD). Every
 * reply's status is the contract's and every JSON reply with a schema in swagger/ is validated
 * against it; every body the suite sends is validated too. `contractStatuses` is the same table
 * for checking what any client (the driver) was answered.
 */
import type { OnosSchemaCheck, OnosSchemaName } from '../../../infra/local/standins/onos';
import { httpRequest } from '../../../shared/backends/http';

/** An ONOS to test. */
export interface OnosTarget {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  /** An .oar this ONOS can download, and what it holds. */
  readonly oar: { readonly url: string; readonly name: string; readonly version: string };
  /** A device with no flows the suite may program, e.g. of:0000000000000001. */
  readonly deviceId: string;
}

/** Contract statuses per (method, path pattern) of the subset XOS uses. */
const CONTRACT: ReadonlyArray<readonly [string, RegExp, readonly number[]]> = [
  ['GET', /^\/onos\/v1\/applications$/, [200]],
  ['POST', /^\/onos\/v1\/applications$/, [200, 400, 409]],
  ['GET', /^\/onos\/v1\/applications\/[^/]+$/, [200, 404]],
  ['DELETE', /^\/onos\/v1\/applications\/[^/]+$/, [204]],
  ['POST', /^\/onos\/v1\/applications\/[^/]+\/active$/, [200, 404]],
  ['DELETE', /^\/onos\/v1\/applications\/[^/]+\/active$/, [204]],
  ['GET', /^\/onos\/v1\/network\/configuration(\/[^/]+){0,3}$/, [200, 404]],
  ['POST', /^\/onos\/v1\/network\/configuration$/, [200, 207, 400]],
  ['POST', /^\/onos\/v1\/network\/configuration(\/[^/]+){1,2}$/, [200, 207, 400, 404]],
  ['POST', /^\/onos\/v1\/network\/configuration(\/[^/]+){3}$/, [200, 400, 404]],
  ['DELETE', /^\/onos\/v1\/network\/configuration(\/[^/]+){0,3}$/, [204, 404]],
  ['GET', /^\/onos\/v1\/configuration(\/[^/]+){0,2}$/, [200, 404]],
  ['POST', /^\/onos\/v1\/configuration\/[^/]+$/, [200, 207]],
  ['DELETE', /^\/onos\/v1\/configuration\/[^/]+$/, [204]],
  ['GET', /^\/onos\/v1\/flows(\/[^/]+){0,2}$/, [200, 404]],
  ['POST', /^\/onos\/v1\/flows$/, [200, 400]],
  ['POST', /^\/onos\/v1\/flows\/[^/]+$/, [201, 400]],
  ['DELETE', /^\/onos\/v1\/flows\/[^/]+\/[^/]+$/, [204, 404]],
  ['GET', /^\/onos\/v1\/devices(\/[^/]+)?$/, [200, 404]],
  // VTN (org.opencord.vtn, docs/xos_vtn.md); 404 is also Jersey's while the app is inactive.
  ['GET', /^\/onos\/cordvtn\/serviceNetworks(\/[^/]+)?$/, [200, 404]],
  ['POST', /^\/onos\/cordvtn\/serviceNetworks$/, [200, 201, 400, 409]],
  ['PUT', /^\/onos\/cordvtn\/serviceNetworks\/[^/]+$/, [200, 400, 404]],
  ['DELETE', /^\/onos\/cordvtn\/serviceNetworks\/[^/]+$/, [204, 404]],
];

/** Statuses the contract allows for a request, or undefined when the request is outside it. */
export function contractStatuses(method: string, path: string): readonly number[] | undefined {
  const p = path.split('?')[0]?.replace(/\/+$/, '') ?? '';
  const hit = CONTRACT.find(([m, re]) => m === method && re.test(p));
  // 401 (credentials) and 503 (ServiceNotFoundException) can answer anything.
  return hit ? [...hit[2], 401, 503] : undefined;
}

/** Define the contract suite (call inside a test file). */
export function describeOnosContract(name: string, target: () => OnosTarget, check: OnosSchemaCheck | undefined): void {
  describe(`ONOS REST contract: ${name}`, () => {
    let t: OnosTarget;
    beforeAll(() => {
      t = target();
    });
    const auth = (user = t.username, pass = t.password) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      opts: { schema?: OnosSchemaName; authorization?: string | null } = {},
    ) => {
      if (opts.schema && check) expect(check(opts.schema, body)).toBeUndefined();
      const headers: Record<string, string> = {};
      if (opts.authorization !== null) headers.authorization = opts.authorization ?? auth();
      const r = await httpRequest('onos', `${t.url}${path}`, { method, headers, body, action: `${method} ${path}` });
      return { status: r.status, headers: r.headers, json: (r.body ?? {}) as Record<string, unknown> };
    };
    const valid = (schema: OnosSchemaName, value: unknown) => {
      if (check) expect(check(schema, value)).toBeUndefined();
    };
    const errorBody = (r: { headers: Headers; json: Record<string, unknown> }, code: number, message?: RegExp) => {
      expect(r.headers.get('content-type')).toMatch(/application\/json/);
      expect(r.json.code).toBe(code);
      if (message) expect(String(r.json.message)).toMatch(message);
    };

    test('Basic auth on every path: none or wrong credentials give 401 with the karaf realm', async () => {
      for (const authorization of [null, auth(t.username, `${t.password}-wrong`)]) {
        const r = await call('GET', '/onos/v1/applications', undefined, { authorization });
        expect(r.status).toBe(401);
        expect(r.headers.get('www-authenticate')).toMatch(/^Basic realm="karaf"/);
      }
    });

    test('an unknown path is 404', async () => {
      expect((await call('GET', '/onos/v1/no-such-resource')).status).toBe(404);
    });

    test('applications: list, 404 with the error body, activate a bundled app and its required apps, deactivate is 204 always', async () => {
      const list = await call('GET', '/onos/v1/applications');
      expect(list.status).toBe(200);
      valid('Applications', list.json);
      const missing = await call('GET', '/onos/v1/applications/org.example.nothing');
      expect(missing.status).toBe(404);
      errorBody(missing, 404, /^Application is not found/);
      expect((await call('POST', '/onos/v1/applications/org.example.nothing/active')).status).toBe(404);

      const on = await call('POST', '/onos/v1/applications/org.onosproject.openflow/active');
      expect(on.status).toBe(200);
      valid('Application', on.json);
      expect(on.json).toMatchObject({ name: 'org.onosproject.openflow', state: 'ACTIVE' });
      for (const req of on.json.requiredApps as string[]) {
        const dep = await call('GET', `/onos/v1/applications/${req}`);
        expect(dep.json.state).toBe('ACTIVE');
      }
      expect((await call('DELETE', '/onos/v1/applications/org.onosproject.openflow/active')).status).toBe(204);
      expect((await call('GET', '/onos/v1/applications/org.onosproject.openflow')).json.state).toBe('INSTALLED');
      expect((await call('DELETE', '/onos/v1/applications/org.example.nothing/active')).status).toBe(204);
    });

    test('applications: install by URL with activate, 409 when already installed, uninstall 204 always, bad URL 400', async () => {
      const body = { url: t.oar.url, activate: true };
      const installed = await call('POST', '/onos/v1/applications', body, { schema: 'ApplicationPost' });
      expect(installed.status).toBe(200);
      valid('Application', installed.json);
      expect(installed.json).toMatchObject({ name: t.oar.name, version: t.oar.version, state: 'ACTIVE' });
      const again = await call('POST', '/onos/v1/applications', body, { schema: 'ApplicationPost' });
      expect(again.status).toBe(409);
      errorBody(again, 409);
      expect((await call('DELETE', `/onos/v1/applications/${t.oar.name}`)).status).toBe(204);
      expect((await call('GET', `/onos/v1/applications/${t.oar.name}`)).status).toBe(404);
      expect((await call('DELETE', `/onos/v1/applications/${t.oar.name}`)).status).toBe(204);
      const bad = await call('POST', '/onos/v1/applications', { url: 'not a url' }, { schema: 'ApplicationPost' });
      expect(bad.status).toBe(400);
      errorBody(bad, 400);
    });

    test('network configuration: merge at configKey granularity, keyed 404s, delete 204 even when missing', async () => {
      const dev = t.deviceId;
      const root = await call('GET', '/onos/v1/network/configuration');
      expect(root.status).toBe(200);
      valid('NetCfgGet', root.json);
      const path = `/onos/v1/network/configuration/devices/${dev}`;
      expect((await call('POST', `${path}/basic`, { name: 'leaf-1', allowed: true })).status).toBe(200);
      expect((await call('GET', `${path}/basic`)).json).toEqual({ name: 'leaf-1', allowed: true });
      // A configKey is replaced whole.
      expect((await call('POST', `${path}/basic`, { name: 'leaf-2' })).status).toBe(200);
      expect((await call('GET', `${path}/basic`)).json).toEqual({ name: 'leaf-2' });
      const gone = await call('GET', `/onos/v1/network/configuration/devices/of:00000000000000ff`);
      expect(gone.status).toBe(404);
      errorBody(gone, 404, /^Config for 'devices\/of:00000000000000ff' not found/);
      const unknownClass = await call('POST', '/onos/v1/network/configuration/nosuchclass/x', { k: {} });
      expect(unknownClass.status).toBe(404);
      errorBody(unknownClass, 404, /subjectClassKey 'nosuchclass' not found/);
      expect((await call('DELETE', '/onos/v1/network/configuration/nosuchclass')).status).toBe(404);
      expect((await call('DELETE', `${path}/basic`)).status).toBe(204);
      expect((await call('GET', `${path}/basic`)).status).toBe(404);
      expect((await call('DELETE', `${path}/basic`)).status).toBe(204);
    });

    test('network configuration: a tree with an unknown subject class is a 207 with messages, the valid part applied', async () => {
      const tree = {
        nosuchclass: { x: { y: {} } },
        devices: { [t.deviceId]: { basic: { name: 'spine-1' } } },
      };
      const r = await call('POST', '/onos/v1/network/configuration', tree);
      expect(r.status).toBe(207);
      expect(r.json.code).toBe(207);
      expect(r.json.message).toEqual(expect.arrayContaining(["subjectClassKey 'nosuchclass' not found"]));
      const applied = await call('GET', `/onos/v1/network/configuration/devices/${t.deviceId}/basic`);
      expect(applied.json).toEqual({ name: 'spine-1' });
      await call('DELETE', `/onos/v1/network/configuration/devices/${t.deviceId}`);
    });

    test('network configuration: an app config key no active app registered is queued (200) and invisible', async () => {
      const path = '/onos/v1/network/configuration/apps/org.example.inactive/example';
      expect((await call('POST', path, { enabled: true })).status).toBe(200);
      expect((await call('GET', path)).status).toBe(404);
      expect((await call('DELETE', path)).status).toBe(204);
    });

    test('component configuration: read, set (values as text), unknown component 404', async () => {
      const c = 'org.onosproject.provider.lldp.impl.LldpLinkProvider';
      const before = await call('GET', `/onos/v1/configuration/${c}`);
      expect(before.status).toBe(200);
      expect((await call('POST', `/onos/v1/configuration/${c}`, { probeRate: '5000' })).status).toBe(200);
      const after = await call('GET', `/onos/v1/configuration/${c}`);
      expect((after.json[c] as Record<string, { value: string }>).probeRate?.value).toBe('5000');
      expect((await call('DELETE', `/onos/v1/configuration/${c}`, { probeRate: '5000' })).status).toBe(204);
      const missing = await call('GET', '/onos/v1/configuration/org.example.NoSuchComponent');
      expect(missing.status).toBe(404);
      errorBody(missing, 404);
    });

    test('flows: 201 + Location, deterministic ids, batch 200 with ids, required members 400, the "no flows -> 404" quirk', async () => {
      const dev = t.deviceId;
      const rule = {
        priority: 40001,
        timeout: 0,
        isPermanent: true,
        deviceId: dev,
        treatment: { instructions: [{ type: 'OUTPUT', port: '2' }], deferred: [] },
        selector: {
          criteria: [
            { type: 'ETH_TYPE', ethType: '0x800' },
            { type: 'IPV4_SRC', ip: '10.9.9.0/24' },
          ],
        },
      };
      const none = await call('GET', `/onos/v1/flows/${dev}`);
      if (none.status === 404) errorBody(none, 404, /Device is not found/);
      const one = await call('POST', `/onos/v1/flows/${dev}?appId=org.example.contract`, rule, { schema: 'FlowsPost' });
      expect(one.status).toBe(201);
      const location = one.headers.get('location') ?? '';
      expect(location).toMatch(new RegExp(`/onos/v1/flows/${dev}/\\d+$`));
      const id = location.split('/').pop() as string;
      const again = await call('POST', `/onos/v1/flows/${dev}?appId=org.example.contract`, rule, {
        schema: 'FlowsPost',
      });
      expect(again.headers.get('location')).toBe(location);
      const batch = await call(
        'POST',
        '/onos/v1/flows?appId=org.example.contract',
        { flows: [rule] },
        { schema: 'FlowsBatchPost' },
      );
      expect(batch.status).toBe(200);
      expect(batch.json.flows).toEqual([{ deviceId: dev, flowId: id }]);
      const listed = await call('GET', `/onos/v1/flows/${dev}`);
      expect(listed.status).toBe(200);
      valid('FlowEntries', listed.json);
      expect((listed.json.flows as { id: string; appId: string }[]).find((f) => f.id === id)).toMatchObject({
        id,
        appId: 'org.example.contract',
      });
      const { priority: _p, ...noPriority } = rule;
      const missing = await call('POST', `/onos/v1/flows/${dev}`, noPriority);
      expect(missing.status).toBe(400);
      errorBody(missing, 400, /priority member is required in FlowRule/);
      const wrongDevice = await call('POST', '/onos/v1/flows/of:00000000000000aa', rule);
      expect(wrongDevice.status).toBe(400);
      errorBody(wrongDevice, 400, /Invalid deviceId in flow creation request/);
      expect((await call('DELETE', `/onos/v1/flows/${dev}/${id}`)).status).toBe(204);
      const unknownApp = await call('GET', '/onos/v1/flows/application/org.example.never');
      expect(unknownApp.status).toBe(404);
      errorBody(unknownApp, 404);
    });

    test('devices: list and get validate, an unknown device is 404', async () => {
      const list = await call('GET', '/onos/v1/devices');
      expect(list.status).toBe(200);
      valid('DevicesGet', list.json);
      const one = await call('GET', `/onos/v1/devices/${t.deviceId}`);
      if (one.status === 200) valid('DeviceGet', one.json);
      const missing = await call('GET', '/onos/v1/devices/of:00000000000000ee');
      expect(missing.status).toBe(404);
      errorBody(missing, 404, /Device is not found/);
    });
  });
}
