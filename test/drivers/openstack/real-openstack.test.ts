/**
 * The real-OpenStack integration tier: through the XOS API, with DynamoDB Local, the local
 * synchronizer and the production BackendRouter + OpenStack driver, against a REAL OpenStack
 * (bin/openstack/up.sh). Creates a site, deployment, controller, user, privileges, slice, network,
 * image, flavor and two instances; checks through OpenStack's own APIs that every project, user,
 * role assignment, network, subnet, image, server (ACTIVE) and port exists; changes an instance
 * and sees Nova follow; deletes a server behind XOS's back and sees the sweeper repair it; deletes
 * the slice and sees everything removed in reverse order with nothing left behind. Skipped LOUDLY
 * where OpenStack cannot run (see real-openstack.ts).
 */
import { randomBytes } from 'node:crypto';
import { resourceName } from '../../../shared/backends/openstack/names';
import { eventually } from '../../helpers/sync-stack';
import { type OpenStackSyncStack, startOpenStackSyncStack } from './openstack-stack';
import { acquireRealOpenStack, type RealOpenStack, realOpenStackUnavailable } from './real-openstack';

const unavailable = realOpenStackUnavailable('the XOS -> OpenStack integration tier');
const MINUTE = 60_000;

type Json = Record<string, unknown>;

(unavailable ? describe.skip : describe)('XOS through a real OpenStack', () => {
  let real: RealOpenStack;
  let s: OpenStackSyncStack;
  const tag = randomBytes(3).toString('hex');
  // biome-ignore lint/suspicious/noExplicitAny: API objects are inspected dynamically
  const o: Record<string, any> = {};

  beforeAll(async () => {
    real = await acquireRealOpenStack();
    s = await startOpenStackSyncStack(real.target);
  }, 12 * MINUTE);
  afterAll(async () => {
    await s?.close();
    await real?.release();
  }, 3 * MINUTE);

  /** Every listed object enacted at its current version with backend_code 1. */
  async function enacted(plural: string, ids: string[]): Promise<Json[]> {
    const out: Json[] = [];
    for (const id of ids) {
      const obj = await s.get(plural, id);
      if (obj.backend_code !== 1 || obj.enacted_version !== obj.version)
        throw new Error(
          `${plural} ${id}: ${obj.backend_code} ${obj.backend_status} (v${obj.version}/e${obj.enacted_version})`,
        );
      out.push(obj);
    }
    return out;
  }
  const ids = (items: Json[]) => items.map((i) => String(i.id));

  test(
    'a site, user, privileges, slice, network, image, flavor and two instances become OpenStack resources',
    async () => {
      const key = `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${tag} alice@xos`;
      o.site = await s.create('sites', {
        name: `os-site-${tag}`,
        login_base: `os${tag}`,
        abbreviated_name: `os${tag}`,
      });
      await s.create('sitedeployments', {
        site_id: o.site.id,
        deployment_id: s.deployment.id,
        controller_id: s.controller.id,
      });
      o.user = await s.create('users', { email: `alice-${tag}@example.com`, site_id: o.site.id, public_key: key });
      await s.create('privileges', {
        accessor_id: o.user.id,
        object_type: 'Site',
        object_id: o.site.id,
        permission: 'role:admin',
      });
      o.slice = await s.create('slices', { name: `os_slice_${tag}`, site_id: o.site.id, max_instances: 4 });
      await s.create('privileges', {
        accessor_id: o.user.id,
        object_type: 'Slice',
        object_id: o.slice.id,
        permission: 'role:access',
      });
      o.template = await s.create('networktemplates', { name: `os-private-${tag}` });
      o.network = await s.create('networks', {
        name: `os-net-${tag}`,
        template_id: o.template.id,
        owner_id: o.slice.id,
        subnet: '10.77.3.0/24',
      });
      o.image = await s.create('images', { name: `os-image-${tag}`, disk_format: 'raw', container_format: 'bare' });
      o.flavor = await s.create('flavors', { name: `xos-it-${tag}` });
      const vm = (name: string) => ({
        name,
        slice_id: o.slice.id,
        image_id: o.image.id,
        flavor_id: o.flavor.id,
        deployment_id: s.deployment.id,
      });
      o.vm1 = await s.create('instances', vm(`vm1-${tag}`));
      o.vm2 = await s.create('instances', vm(`vm2-${tag}`));

      const started = Date.now();
      await eventually(
        async () => {
          await enacted('instances', [o.vm1.id, o.vm2.id]);
          for (const plural of [
            'ports',
            'controllerslices',
            'controllersites',
            'controllerusers',
            'controllernetworks',
            'controllerimages',
            'controllersiteprivileges',
            'controllersliceprivileges',
          ])
            await enacted(plural, ids(await s.list(plural)));
        },
        8 * MINUTE,
        1_000,
      );
      console.info(
        `real OpenStack: the whole graph enacted ${((Date.now() - started) / 1000).toFixed(1)} s after the last API write`,
      );

      const [cslice] = await s.list('controllerslices', `slice_id=${o.slice.id}`);
      const [csite] = await s.list('controllersites', `site_id=${o.site.id}`);
      const [cuser] = await s.list('controllerusers', `user_id=${o.user.id}`);
      const [cnet] = await s.list('controllernetworks', `network_id=${o.network.id}`);
      const [cimage] = await s.list('controllerimages', `image_id=${o.image.id}`);
      Object.assign(o, { cslice, csite, cuser, cnet, cimage });

      // Projects, with the feedback XOS recorded.
      const sliceProject = await s.api.findProject(resourceName('slice', o.slice.id));
      const siteProject = await s.api.findProject(resourceName('site', o.site.id));
      expect(sliceProject?.id).toBe(cslice.tenant_id);
      expect(siteProject?.id).toBe(csite.tenant_id);
      const quota = await s.api.session.call('compute', 'GET', `/os-quota-sets/${cslice.tenant_id}`, {
        action: 'quota',
      });
      expect((quota.body as { quota_set: Json }).quota_set.instances).toBe(4);
      // The user and its role assignments (admin on the site project, member on the slice project).
      const kuser = await s.api.findUser(resourceName('user', o.user.id));
      expect(kuser?.id).toBe(cuser.kuser_id);
      expect(await s.api.granted(csite.tenant_id, cuser.kuser_id, 'admin')).toBe(true);
      expect(await s.api.granted(cslice.tenant_id, cuser.kuser_id, 'member')).toBe(true);
      // Network and subnet.
      const net = await s.api.findNetwork(o.network.id);
      expect(net).toMatchObject({ id: cnet.net_id, project_id: cslice.tenant_id });
      const subnet = await s.api.session.call('network', 'GET', `/subnets/${cnet.subnet_id}`, { action: 'subnet' });
      expect((subnet.body as { subnet: Json }).subnet).toMatchObject({ cidr: '10.77.3.0/24', gateway_ip: '10.77.3.1' });
      // Image.
      const image = await s.api.session.call('image', 'GET', `/images/${cimage.glance_image_id}`, { action: 'image' });
      expect((image.body as Json).status).toBe('active');
      // Servers ACTIVE in the slice's project, each with its port on the network.
      for (const vm of [o.vm1, o.vm2]) {
        const instance = await s.get('instances', vm.id);
        const server = await s.api.session.call('compute', 'GET', `/servers/${instance.instance_id}`, {
          action: 'server',
        });
        const body = (server.body as { server: Json }).server;
        expect(body).toMatchObject({
          status: 'ACTIVE',
          tenant_id: cslice.tenant_id,
          name: resourceName('instance', vm.id),
        });
        expect(instance.ip).toMatch(/^10\.77\.3\./);
        const [port] = await s.list('ports', `instance_id=${vm.id}`);
        const neutronPort = await s.api.session.call('network', 'GET', `/ports/${port.port_id}`, { action: 'port' });
        expect((neutronPort.body as { port: Json }).port).toMatchObject({
          device_id: instance.instance_id,
          network_id: cnet.net_id,
          status: 'ACTIVE',
          name: resourceName('port', port.id),
        });
      }
    },
    10 * MINUTE,
  );

  test(
    'a renamed instance is updated in Nova',
    async () => {
      const before = await s.get('instances', o.vm1.id);
      const res = await s.stack.request('PATCH', `/xosapi/v1/core/instances/${o.vm1.id}`, {
        body: { name: `vm1-renamed-${tag}`, version: before.version },
      });
      expect(res.status).toBe(200);
      await eventually(async () => enacted('instances', [o.vm1.id]), 3 * MINUTE, 1_000);
      const server = await s.api.session.call('compute', 'GET', `/servers/${before.instance_id}`, { action: 'server' });
      expect(((server.body as { server: Json }).server.metadata as Json).xos_name).toBe(`vm1-renamed-${tag}`);
    },
    4 * MINUTE,
  );

  test(
    "a server deleted behind XOS's back is found by the sweeper and booted again",
    async () => {
      const before = await s.get('instances', o.vm2.id);
      await s.api.session.call('compute', 'DELETE', `/servers/${before.instance_id}`, { action: 'delete out of band' });
      await eventually(
        async () => {
          const r = await s.api.session.call('compute', 'GET', `/servers/${before.instance_id}`, {
            ok: [404],
            action: 'gone?',
          });
          if (r.status !== 404) throw new Error('still there');
        },
        2 * MINUTE,
        500,
      );
      const after = await eventually(
        async () => {
          await s.sync.sweep({ drift: true, graceMs: 0 });
          const [instance] = await enacted('instances', [o.vm2.id]);
          if (!instance || instance.instance_id === before.instance_id) throw new Error('not repaired yet');
          const [port] = await s.list('ports', `instance_id=${o.vm2.id}`);
          const [ok] = await enacted('ports', [port.id]);
          return { instance, port: ok };
        },
        5 * MINUTE,
        2_000,
      ).catch(async (err: unknown) => {
        const trail = (await s.history('instances', o.vm2.id))
          .slice(-6)
          .map((h) => `${h.step} ${h.outcome} ${h.message}`);
        throw new Error(`${String(err)}; last history: ${trail.join(' | ')}`);
      });
      const history = await s.history('instances', o.vm2.id);
      expect(history.some((h) => h.outcome === 'drift' && /missing from the back-end/.test(h.message))).toBe(true);
      const server = await s.api.session.call('compute', 'GET', `/servers/${String(after.instance?.instance_id)}`, {
        action: 'server',
      });
      expect((server.body as { server: Json }).server.status).toBe('ACTIVE');
      expect(await s.api.findServers(resourceName('instance', o.vm2.id))).toHaveLength(1);
    },
    8 * MINUTE,
  );

  test(
    'deleting the slice removes its servers, ports, network and project, in reverse order, leaving nothing',
    async () => {
      const ports = await s.list('ports', `network_id=${o.network.id}`);
      const serverIds = [
        (await s.get('instances', o.vm1.id)).instance_id,
        (await s.get('instances', o.vm2.id)).instance_id,
      ];
      expect((await s.stack.request('DELETE', `/xosapi/v1/core/slices/${o.slice.id}`)).status).toBe(202);
      const gone = async (plural: string, id: string) => {
        const r = await s.stack.request('GET', `/xosapi/v1/core/${plural}/${id}`);
        if (r.status !== 404) throw new Error(`${plural} ${id} still there: ${r.body?.backend_status}`);
      };
      await eventually(
        async () => {
          for (const [plural, id] of [
            ['slices', o.slice.id],
            ['instances', o.vm1.id],
            ['instances', o.vm2.id],
            ['networks', o.network.id],
            ['controllerslices', o.cslice.id],
            ['controllernetworks', o.cnet.id],
            ...ports.map((p) => ['ports', p.id]),
          ])
            await gone(plural, id);
        },
        8 * MINUTE,
        1_000,
      );
      // Reverse order, as recorded when each object was purged (after its back-end removal).
      const purged = async (plural: string, id: string) =>
        Date.parse((await s.history(plural, id)).find((h) => h.outcome === 'deleted')?.time ?? 'x');
      const tSlice = await purged('controllerslices', o.cslice.id);
      const tNet = await purged('controllernetworks', o.cnet.id);
      // Placement records go after the deleted dependents of what they place (the registry's
      // `places`): the project (ControllerSlice) after the servers, the Neutron network
      // (ControllerNetwork) after its ports, and the network before the project.
      for (const vm of [o.vm1, o.vm2]) expect(await purged('instances', vm.id)).toBeLessThanOrEqual(tSlice);
      for (const p of ports) expect(await purged('ports', p.id)).toBeLessThanOrEqual(tNet);
      expect(tNet).toBeLessThanOrEqual(tSlice);
      // Nothing of the slice is left in OpenStack.
      expect(await s.api.findProject(resourceName('slice', o.slice.id))).toBeUndefined();
      expect(await s.api.findNetwork(o.network.id)).toBeUndefined();
      for (const vm of [o.vm1, o.vm2]) expect(await s.api.findServers(resourceName('instance', vm.id))).toHaveLength(0);
      for (const id of serverIds) {
        const r = await s.api.session.call('compute', 'GET', `/servers/${id}`, { ok: [404], action: 'server' });
        expect(r.status).toBe(404);
      }
      for (const p of ports)
        expect(await s.api.neutronList('ports', `name=${resourceName('port', p.id)}`, 'ports')).toHaveLength(0);
      const left = await s.api.neutronList('ports', `project_id=${o.cslice.tenant_id}`, 'ports');
      expect(left).toHaveLength(0);
      const groups = await s.api.neutronList('security-groups', `project_id=${o.cslice.tenant_id}`, 'security groups');
      expect(groups).toHaveLength(0);
      // The site, its project and the user's site role are untouched.
      expect(await s.api.granted(o.csite.tenant_id, o.cuser.kuser_id, 'admin')).toBe(true);
    },
    10 * MINUTE,
  );
});
