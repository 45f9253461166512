/**
 * The OpenStack driver contract: one suite, run unchanged against the in-process stand-in
 * (contract-standin.test.ts) and against a real OpenStack (contract-real.test.ts), so the stand-in
 * is proven faithful rather than assumed. It drives the driver's own clients with model objects
 * held in memory (no DynamoDB) and checks what the back-end answers: Keystone tokens and catalog,
 * every kind's observe/create/update/delete, find-by-name idempotency, BUILD -> ACTIVE, ERROR with
 * Nova's fault, quota 403, Neutron 409 NetworkInUse, and each service's error shape.
 */
import { randomBytes } from 'node:crypto';
import type { DriverContext, ExternalClient, Observation } from '../../../shared/backends/driver';
import { OpenStackApi } from '../../../shared/backends/openstack/api';
import { openstackBackendWith } from '../../../shared/backends/openstack/backend';
import { resourceName } from '../../../shared/backends/openstack/names';
import { type AdminLogin, adminSession, OpenStackSession } from '../../../shared/backends/openstack/session';
import { RetryableBackendError, TerminalBackendError } from '../../../shared/errors';
import { MemorySecrets } from '../../../shared/secrets/secrets';
import type { StoredObject } from '../../../shared/store/store';
import { eventually } from '../../helpers/sync-stack';

/** Where the suite runs. */
export interface ContractTarget extends AdminLogin {
  readonly label: string;
  /** How long a server may take from create to ACTIVE here. */
  readonly buildTimeoutMs: number;
}

/** A tiny in-memory model for the driver context. */
export class MemoryModel {
  readonly objects = new Map<string, StoredObject>();

  add(kind: string, fields: Record<string, unknown>): StoredObject {
    const id = `${kind.slice(0, 2).toUpperCase()}${randomBytes(8).toString('hex').toUpperCase()}`;
    const obj = { kind, id, version: 1, deleted: false, ...fields } as unknown as StoredObject;
    this.objects.set(id, obj);
    return obj;
  }

  /** A new version of an object with some fields changed. */
  change(obj: StoredObject, fields: Record<string, unknown>): StoredObject {
    const next = { ...obj, ...fields, version: obj.version + 1 } as StoredObject;
    this.objects.set(obj.id, next);
    return next;
  }

  ctx(): DriverContext {
    return {
      related: new Map(this.objects),
      lookup: {
        get: async (_kind, id) => this.objects.get(id),
        referencing: async (kind, field, target) =>
          [...this.objects.values()].filter((o) => o.kind === kind && o[field] === target && !o.deleted),
      },
    };
  }
}

/** Poll `observe` until `done` holds (or time out with the last observation). */
export async function observeUntil(
  client: ExternalClient,
  obj: StoredObject,
  ctx: DriverContext,
  done: (o: Observation) => boolean,
  timeoutMs: number,
): Promise<Observation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await client.observe(obj, ctx);
    if (done(seen)) return seen;
    if (Date.now() > deadline)
      throw new Error(`${obj.kind} ${obj.id} never reached the state: ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Run a driver call until it stops failing retryably (a dependency another record creates). */
async function retrying<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof RetryableBackendError) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

/** Register the contract suite for a target (resolved in beforeAll, once the target runs). */
export function openStackContract(getTarget: () => ContractTarget): void {
  let t: ContractTarget;
  let session: OpenStackSession;
  let api: OpenStackApi;
  const model = new MemoryModel();
  const secrets = new MemorySecrets();
  let clients: (kind: string) => ExternalClient;

  beforeAll(() => {
    t = getTarget();
    session = adminSession(t);
    api = new OpenStackApi(session);
    secrets.set('contract-admin', { password: t.adminPassword });
    const controller = model.add('Controller', {
      name: 'contract',
      backend_type: 'openstack',
      auth_url: t.authUrl,
      admin_user: t.adminUser,
      admin_tenant: t.adminProject,
      domain: t.domain,
      region: t.region,
      credentials_ref: 'contract-admin',
    });
    const backend = openstackBackendWith({ deleteWaitMs: 60_000, pollMs: 250 })(controller, { secrets });
    clients = (kind) => {
      const c = backend.client(kind);
      if (!c) throw new Error(`no client for ${kind}`);
      return c;
    };
  });

  describe('Keystone session', () => {
    test('a password token is cached and the catalog gives every service endpoint', async () => {
      const first = await session.token();
      const again = await session.token();
      expect(again.token).toBe(first.token);
      expect(session.authentications).toBe(1);
      expect(first.expiresAt).toBeGreaterThan(Date.now() + 60_000);
      expect(await session.endpoint('compute')).toMatch(/\/v2\.1$/);
      expect(await session.endpoint('network')).toMatch(/\/v2\.0$/);
      expect(await session.endpoint('image')).toMatch(/\/v2$/);
    });

    test('a revoked token is replaced once, transparently', async () => {
      const { token } = await session.token();
      const before = session.authentications;
      // Keystone revokes a token with DELETE /v3/auth/tokens; the stand-in honours the same call.
      await session.call('identity', 'DELETE', '/auth/tokens', {
        headers: { 'x-subject-token': token },
        action: 'revoke the token',
      });
      const reply = await session.call('identity', 'GET', '/roles?name=member', { action: 'list roles' });
      expect(reply.status).toBe(200);
      expect(session.authentications).toBe(before + 1);
      expect((await session.token()).token).not.toBe(token);
    });

    test("a wrong password is a terminal failure carrying Keystone's message", async () => {
      const bad = new OpenStackSession({ ...session.config, password: 'wrong' });
      const err = await bad.token().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TerminalBackendError);
      expect(String((err as Error).message)).toContain('The request you have made requires authentication.');
    });
  });

  describe('error shapes, classified in one place', () => {
    const zero = '00000000-0000-0000-0000-000000000000';
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    test.each([
      ['identity', `/projects/${'0'.repeat(32)}`, TerminalBackendError, /Could not find project/],
      ['compute', `/servers/${zero}`, TerminalBackendError, /Instance .* could not be found/],
      ['network', `/networks/${zero}`, TerminalBackendError, /NetworkNotFound: Network .* could not be found/],
      ['image', `/images/${zero}`, TerminalBackendError, /No image found with ID/],
    ] as const)('%s 404 for %s', async (service, path, kind, message) => {
      const err = await failure(session.call(service, 'GET', path, { action: 'read' }));
      expect(err).toBeInstanceOf(kind);
      expect(err?.message).toMatch(/HTTP 404/);
      expect(err?.message).toMatch(message);
    });

    test("a duplicate project name is 409, retryable, with Keystone's message", async () => {
      const name = `xos-contract-dup-${randomBytes(4).toString('hex')}`;
      const body = { project: { name, domain_id: 'default' } };
      const made = await session.call('identity', 'POST', '/projects', { body, action: 'create' });
      const err = await failure(session.call('identity', 'POST', '/projects', { body, action: 'create again' }));
      expect(err).toBeInstanceOf(RetryableBackendError);
      expect(err?.message).toMatch(/HTTP 409.*Conflict occurred attempting to store project/);
      const id = ((made.body as Record<string, Record<string, string>>).project as Record<string, string>).id;
      await session.call('identity', 'DELETE', `/projects/${id}`, { action: 'clean up' });
    });

    test('a bad CIDR is Neutron 400 InvalidInput, terminal', async () => {
      const net = await session.call('network', 'POST', '/networks', {
        body: { network: { name: `xos-contract-cidr-${randomBytes(3).toString('hex')}` } },
        action: 'create',
      });
      const id = (net.body as Record<string, Record<string, string>>).network?.id as string;
      const err = await failure(
        session.call('network', 'POST', '/subnets', {
          body: { subnet: { network_id: id, cidr: '10.10.0.0/33', ip_version: 4 } },
          action: 'create subnet',
        }),
      );
      expect(err).toBeInstanceOf(TerminalBackendError);
      expect(err?.message).toMatch(
        /InvalidInput: Invalid input for operation: 10\.10\.0\.0\/33 is not in a CIDR format/,
      );
      await session.call('network', 'DELETE', `/networks/${id}`, { action: 'clean up' });
    });
  });

  describe('every kind through the driver, in dependency order, then removed in reverse', () => {
    const o: Record<string, StoredObject> = {};
    let ctx: DriverContext;

    beforeAll(() => {
      const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIContractKey contract@xos';
      o.site = model.add('Site', { name: 'contract site', login_base: 'ct', enabled: true });
      o.user = model.add('User', {
        email: 'alice@contract.example',
        is_active: true,
        site_id: o.site.id,
        public_key: key,
      });
      o.slice = model.add('Slice', {
        name: 'ct_slice',
        site_id: o.site.id,
        max_instances: 3,
        enabled: true,
        creator_id: o.user.id,
      });
      o.sitePriv = model.add('Privilege', {
        accessor_type: 'User',
        accessor_id: o.user.id,
        object_type: 'Site',
        object_id: o.site.id,
        permission: 'role:admin',
      });
      o.slicePriv = model.add('Privilege', {
        accessor_type: 'User',
        accessor_id: o.user.id,
        object_type: 'Slice',
        object_id: o.slice.id,
        permission: 'access',
      });
      o.privateTpl = model.add('NetworkTemplate', { name: 'private', visibility: 'private' });
      o.publicTpl = model.add('NetworkTemplate', { name: 'public', visibility: 'public' });
      o.net = model.add('Network', {
        name: 'ct-private',
        template_id: o.privateTpl.id,
        owner_id: o.slice.id,
        subnet: '10.123.1.0/24',
      });
      o.pubnet = model.add('Network', { name: 'ct-public', template_id: o.publicTpl.id, owner_id: o.slice.id });
      o.image = model.add('Image', {
        name: 'ct-image',
        image_kind: 'vm',
        disk_format: 'raw',
        container_format: 'bare',
      });
      o.flavor = model.add('Flavor', { name: `xos-contract-${randomBytes(3).toString('hex')}` });
      o.vm = model.add('Instance', {
        name: 'vm-one',
        slice_id: o.slice.id,
        image_id: o.image.id,
        flavor_id: o.flavor.id,
        creator_id: o.user.id,
        isolation: 'vm',
      });
      o.port = model.add('Port', { network_id: o.net.id, instance_id: o.vm.id, xos_created: true });
      o.cSite = model.add('ControllerSite', { site_id: o.site.id });
      o.cUser = model.add('ControllerUser', { user_id: o.user.id });
      o.cSlice = model.add('ControllerSlice', { slice_id: o.slice.id });
      o.cSitePriv = model.add('ControllerSitePrivilege', { site_privilege_id: o.sitePriv.id });
      o.cSlicePriv = model.add('ControllerSlicePrivilege', { slice_privilege_id: o.slicePriv.id });
      o.cNet = model.add('ControllerNetwork', { network_id: o.net.id });
      o.cPubnet = model.add('ControllerNetwork', { network_id: o.pubnet.id });
      o.cImage = model.add('ControllerImage', { image_id: o.image.id });
      ctx = model.ctx();
    });

    /** observe (absent) -> create -> create again (same handle: find-by-name) -> observe (settled). */
    async function converge(name: string, timeoutMs = 30_000): Promise<Observation> {
      const obj = o[name] as StoredObject;
      const client = clients(obj.kind);
      expect((await client.observe(obj, ctx)).exists).toBe(false);
      const handle = await retrying(() => client.create(obj, ctx));
      const again = await client.create(obj, ctx);
      expect(again).toEqual(handle);
      return observeUntil(client, obj, ctx, (s) => s.exists && s.settled && s.upToDate, timeoutMs);
    }

    test('sites and slices become projects; the slice quota is max_instances', async () => {
      const site = await converge('cSite');
      expect(site.feedback?.tenant_id).toEqual(expect.any(String));
      const slice = await converge('cSlice');
      const quota = await session.call('compute', 'GET', `/os-quota-sets/${String(slice.feedback?.tenant_id)}`, {
        action: 'read quota',
      });
      expect((quota.body as { quota_set: { instances: number } }).quota_set.instances).toBe(3);
    });

    test('a changed slice is seen as out of date and updated (quota follows max_instances)', async () => {
      o.slice = model.change(o.slice as StoredObject, { max_instances: 5 });
      ctx = model.ctx();
      const client = clients('ControllerSlice');
      expect((await client.observe(o.cSlice as StoredObject, ctx)).upToDate).toBe(false);
      await client.update(o.cSlice as StoredObject, ctx);
      const seen = await client.observe(o.cSlice as StoredObject, ctx);
      expect(seen.upToDate).toBe(true);
    });

    test('users become Keystone users; privileges become role assignments', async () => {
      const user = await converge('cUser');
      expect(user.feedback?.kuser_id).toEqual(expect.any(String));
      await converge('cSitePriv');
      await converge('cSlicePriv');
      const assignments = await session.call(
        'identity',
        'GET',
        `/role_assignments?user.id=${String(user.feedback?.kuser_id)}`,
        { action: 'list assignments' },
      );
      expect((assignments.body as { role_assignments: unknown[] }).role_assignments).toHaveLength(2);
    });

    test('networks become network + subnet; a public template adds a router', async () => {
      const priv = await converge('cNet');
      expect(priv.feedback).toMatchObject({ subnet: '10.123.1.0/24', gateway: '10.123.1.1', router_id: null });
      const pub = await converge('cPubnet');
      expect(pub.feedback?.router_id).toEqual(expect.any(String));
      expect(pub.feedback?.subnet).toMatch(/^10\.\d+\.\d+\.0\/24$/);
    });

    test('images become active Glance images', async () => {
      const image = await converge('cImage');
      expect(image.feedback?.glance_image_id).toEqual(expect.any(String));
    });

    test('an instance becomes a server: BUILD is not settled, then ACTIVE with its port and addresses', async () => {
      const client = clients('Instance');
      const vm = o.vm as StoredObject;
      expect((await client.observe(vm, ctx)).exists).toBe(false);
      const handle = await client.create(vm, ctx);
      expect(await client.create(vm, ctx)).toEqual(handle);
      const building = await client.observe(vm, ctx);
      expect(building).toMatchObject({ exists: true });
      const active = await observeUntil(client, vm, ctx, (s) => s.settled, t.buildTimeoutMs);
      expect(active.failure).toBeUndefined();
      expect(active.feedback).toMatchObject({
        instance_id: handle.server_id,
        ip: expect.stringMatching(/^10\.123\.1\./),
      });
      const servers = await api.findServers(resourceName('instance', vm.id));
      expect(servers).toHaveLength(1);
      expect(servers[0]?.status).toBe('ACTIVE');
      const port = await converge('port');
      expect(port.feedback?.port_id).toEqual(expect.any(String));
    });

    test('a renamed instance is out of date until updated', async () => {
      o.vm = model.change(o.vm as StoredObject, { name: 'vm-renamed' });
      ctx = model.ctx();
      const client = clients('Instance');
      expect((await client.observe(o.vm, ctx)).upToDate).toBe(false);
      await client.update(o.vm, ctx);
      expect((await client.observe(o.vm, ctx)).upToDate).toBe(true);
    });

    test('a second server of the same name (a create repeated while Nova was slow) is removed by update', async () => {
      const vm = o.vm as StoredObject;
      const client = clients('Instance');
      const [original] = await api.findServers(resourceName('instance', vm.id));
      const server = original as Record<string, Record<string, string>>;
      // Nova's `created` has one-second resolution and the driver keeps the oldest: boot the
      // duplicate in a later second, or which one is "oldest" is a coin toss on a fast machine.
      await new Promise((r) => setTimeout(r, 1_100));
      await session.call('compute', 'POST', '/servers', {
        body: {
          server: {
            name: resourceName('instance', vm.id),
            imageRef: server.image?.id,
            flavorRef: server.flavor?.id,
            networks: 'none',
          },
        },
        projectId: String(original?.tenant_id),
        headers: { 'openstack-api-version': 'compute 2.37' },
        action: 'boot a duplicate',
      });
      const seen = await client.observe(vm, ctx);
      expect(seen).toMatchObject({ exists: true, upToDate: false, handle: { server_id: original?.id } });
      // A busy Nova may answer the DELETE with 500 (its SQLite database locked): retryable, retried.
      await retrying(() => client.update(vm, ctx), t.buildTimeoutMs);
      await observeUntil(client, vm, ctx, (x) => x.upToDate, t.buildTimeoutMs);
      await eventually(
        async () => expect(await api.findServers(resourceName('instance', vm.id))).toHaveLength(1),
        t.buildTimeoutMs,
      );
    });

    test('a network with a port still on it is not deleted: Neutron 409 NetworkInUse, retryable', async () => {
      const err = await clients('ControllerNetwork')
        .delete(o.cNet as StoredObject, ctx)
        .catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(RetryableBackendError);
      expect(err?.message).toMatch(/HTTP 409.*NetworkInUse/);
    });

    test('a slice project with servers is not deleted before them', async () => {
      const err = await clients('ControllerSlice')
        .delete(o.cSlice as StoredObject, ctx)
        .catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(RetryableBackendError);
      expect(err?.message).toMatch(/still holds 1 server/);
    });

    test("a flavor no host can hold: ERROR with Nova's fault message", async () => {
      // Bigger than the one (fake) host, within the project's RAM quota once that is lifted.
      const big = `xos-contract-big-${randomBytes(3).toString('hex')}`;
      await session.call('compute', 'POST', '/flavors', {
        body: { flavor: { name: big, ram: 2_000_000, vcpus: 1, disk: 1 } },
        action: 'create a huge flavor',
      });
      const project = await api.sliceProject((o.slice as StoredObject).id);
      await session.call('compute', 'PUT', `/os-quota-sets/${String(project.id)}`, {
        body: { quota_set: { ram: -1 } },
        action: 'lift the RAM quota',
      });
      const flavor = model.add('Flavor', { name: big });
      const vm = model.add('Instance', {
        name: 'vm-huge',
        slice_id: o.slice?.id,
        image_id: o.image?.id,
        flavor_id: flavor.id,
        isolation: 'vm',
      });
      ctx = model.ctx();
      const client = clients('Instance');
      await client.create(vm, ctx);
      const seen = await observeUntil(client, vm, ctx, (s) => s.failure !== undefined || s.settled, t.buildTimeoutMs);
      expect(seen.failure).toMatch(/is in ERROR: No valid host was found/);
      await client.delete(vm, ctx);
      expect((await client.observe(vm, ctx)).exists).toBe(false);
    });

    test('a quota below what the project uses is refused: Nova 400, terminal', async () => {
      o.slice = model.change(o.slice as StoredObject, { max_instances: 0 });
      ctx = model.ctx();
      const err = await clients('ControllerSlice')
        .update(o.cSlice as StoredObject, ctx)
        .catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(TerminalBackendError);
      expect(err?.message).toMatch(
        /HTTP 400.*Quota limit 0 for instances must be greater than or equal to already used and reserved 1/,
      );
    });

    test('over quota: Nova 403, terminal, with the quota message', async () => {
      o.slice = model.change(o.slice as StoredObject, { max_instances: 1 });
      ctx = model.ctx();
      await clients('ControllerSlice').update(o.cSlice as StoredObject, ctx);
      const vm = model.add('Instance', {
        name: 'vm-over',
        slice_id: o.slice.id,
        image_id: o.image?.id,
        flavor_id: o.flavor?.id,
        isolation: 'vm',
      });
      ctx = model.ctx();
      const err = await clients('Instance')
        .create(vm, ctx)
        .catch((e: unknown) => e as Error);
      expect(err).toBeInstanceOf(TerminalBackendError);
      expect(err?.message).toMatch(/HTTP 403.*Quota exceeded for instances/);
    });

    test('everything is removed in reverse order, and a second delete is a no-op', async () => {
      const order = ['port', 'vm', 'cImage', 'cPubnet', 'cNet', 'cSlicePriv', 'cSitePriv', 'cSlice', 'cUser', 'cSite'];
      for (const name of order) {
        const obj = o[name] as StoredObject;
        const client = clients(obj.kind);
        await retrying(() => client.delete(obj, ctx), 180_000); // a busy host deletes slowly (CI saw > 60 s)
        await client.delete(obj, ctx);
        expect((await client.observe(obj, ctx)).exists).toBe(false);
      }
      const slice = o.slice as StoredObject;
      expect(await api.findProject(resourceName('slice', slice.id))).toBeUndefined();
      expect(await api.findNetwork((o.net as StoredObject).id)).toBeUndefined();
      expect(await api.findServers(resourceName('instance', (o.vm as StoredObject).id))).toHaveLength(0);
      const ports = await api.neutronList(
        'ports',
        `name=${resourceName('port', (o.port as StoredObject).id)}`,
        'ports',
      );
      expect(ports).toHaveLength(0);
      // the test flavors go too (they are the suite's own, not the driver's)
      const flavors = await session.call('compute', 'GET', '/flavors/detail', { action: 'list flavors' });
      for (const f of (flavors.body as { flavors: Array<{ id: string; name: string }> }).flavors)
        if (f.name.startsWith('xos-contract-'))
          await session.call('compute', 'DELETE', `/flavors/${f.id}`, { action: 'delete flavor' });
    });
  });
}
