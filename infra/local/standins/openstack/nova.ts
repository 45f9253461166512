/**
 * Nova v2.1 subset of the stand-in: servers (202, then BUILD -> ACTIVE after `buildMs`, or ERROR
 * with a `fault` when no host fits the flavor; delete 204 then `deleting` then 404), synchronous
 * rejections (unknown image/flavor/network 400, quota 403), metadata, interface attach, flavors
 * (create 200, duplicate 409), quota sets, and microversion headers echoed (default 2.1).
 */
import { type CloudState, type Json, novaError, type Reply, type Req, stamp, uuid } from './state';

/** The requested compute microversion ("2.1" when none). */
function microversion(req: Req): string {
  const header = String(req.headers['openstack-api-version'] ?? req.headers['x-openstack-nova-api-version'] ?? '');
  const m = /(\d+\.\d+)/.exec(header);
  return m?.[1] ?? '2.1';
}

const atLeast = (v: string, min: number) => {
  const [major = 0, minor = 0] = v.split('.').map(Number);
  return major > 2 || (major === 2 && minor >= min);
};

function versionHeaders(v: string): Record<string, string> {
  return {
    'openstack-api-version': `compute ${v}`,
    'x-openstack-nova-api-version': v,
    vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
  };
}

function setStatus(server: Json, status: string, task: string | null, vm: string, power: number): void {
  server.status = status;
  server['OS-EXT-STS:task_state'] = task;
  server['OS-EXT-STS:vm_state'] = vm;
  server['OS-EXT-STS:power_state'] = power;
  server.updated = stamp();
}

/** Bind a port to a server (as Nova and the binding driver do). */
function bind(cloud: CloudState, server: Json, port: Json): void {
  port.device_id = server.id;
  port.device_owner = 'compute:nova';
  port.status = 'ACTIVE';
  port['binding:host_id'] = 'standin-host';
  port['binding:vif_type'] = 'ovs';
  const net = cloud.network.networks.get(String(port.network_id));
  const addresses = server.addresses as Record<string, Json[]>;
  const name = String(net?.name ?? port.network_id);
  const list = addresses[name] ?? [];
  addresses[name] = list;
  for (const ip of (port.fixed_ips as Json[]) ?? []) {
    list.push({
      version: 4,
      addr: ip.ip_address,
      'OS-EXT-IPS:type': 'fixed',
      'OS-EXT-IPS-MAC:mac_addr': port.mac_address,
    });
  }
}

/** Create a port for a server on a network (what Nova asks Neutron for). */
export type PortMaker = (networkId: string, projectId: string, name: string) => Json | Reply;

/** Handle a Nova request (path below `/v2.1`). */
export function nova(cloud: CloudState, req: Req, makePort: PortMaker): Reply {
  const v = microversion(req);
  const reply = route(cloud, req, v, makePort);
  return { ...reply, headers: { ...(reply.headers ?? {}), ...versionHeaders(v) } };
}

function route(cloud: CloudState, req: Req, v: string, makePort: PortMaker): Reply {
  const [a, b, c] = req.parts;
  const m = req.method;
  const auth = req.auth as NonNullable<Req['auth']>;
  if (a === 'servers') {
    if ((!b || b === 'detail') && m === 'GET') {
      const name = req.query.get('name');
      const re = name ? new RegExp(name) : undefined;
      const project = req.query.get('project_id') ?? req.query.get('tenant_id');
      const all = req.query.get('all_tenants') === '1' || req.query.get('all_tenants') === 'True';
      // Lists leave `fault` out (observed): only GET /servers/{id} shows it.
      const servers = [...cloud.compute.servers.values()].filter(
        (s) =>
          (!re || re.test(String(s.name))) &&
          (project ? s.tenant_id === project : all || s.tenant_id === auth.projectId),
      );
      return { status: 200, body: { servers: servers.map(({ fault: _fault, ...rest }) => rest) } };
    }
    if (!b && m === 'POST') return createServer(cloud, req, v, auth.projectId, makePort);
    const server = b ? cloud.compute.servers.get(b) : undefined;
    if (!server) return novaError(404, `Instance ${b} could not be found.`);
    if (!c && m === 'GET') return { status: 200, body: { server } };
    if (!c && m === 'DELETE') {
      if (server['OS-EXT-STS:task_state'] !== 'deleting') {
        setStatus(
          server,
          String(server.status === 'ERROR' ? 'ERROR' : server.status),
          'deleting',
          String(server['OS-EXT-STS:vm_state']),
          Number(server['OS-EXT-STS:power_state']),
        );
        cloud.later(cloud.knobs.deleteMs, () => destroy(cloud, server));
      }
      return { status: 204 };
    }
    if (c === 'metadata' && m === 'POST') {
      server.metadata = { ...(server.metadata as Json), ...((req.body.metadata as Json | undefined) ?? {}) };
      return { status: 200, body: { metadata: server.metadata } };
    }
    if (c === 'os-interface' && m === 'POST') {
      const portId = String((req.body.interfaceAttachment as Json | undefined)?.port_id ?? '');
      const port = cloud.network.ports.get(portId);
      if (!port) return novaError(404, `Port ${portId} could not be found.`);
      if (port.device_id && port.device_id !== server.id) return novaError(409, `Port ${portId} is still in use.`);
      if (server.status !== 'ACTIVE') return novaError(409, `Instance ${String(server.id)} is not ready`);
      bind(cloud, server, port);
      return {
        status: 200,
        body: {
          interfaceAttachment: {
            port_id: portId,
            net_id: port.network_id,
            mac_addr: port.mac_address,
            port_state: 'ACTIVE',
            fixed_ips: port.fixed_ips,
          },
        },
      };
    }
    return novaError(404, 'The resource could not be found.');
  }
  if (a === 'flavors') {
    if ((!b || b === 'detail') && m === 'GET')
      return { status: 200, body: { flavors: [...cloud.compute.flavors.values()] } };
    if (!b && m === 'POST') {
      const f = (req.body.flavor as Json | undefined) ?? {};
      if (typeof f.name !== 'string')
        return novaError(400, "Invalid input for field/attribute flavor. 'name' is a required property");
      if ([...cloud.compute.flavors.values()].some((x) => x.name === f.name))
        return novaError(409, `Flavor with name ${f.name} already exists.`);
      const id = String(f.id ?? uuid());
      const flavor = {
        id,
        name: f.name,
        ram: Number(f.ram ?? 64),
        disk: Number(f.disk ?? 1),
        vcpus: Number(f.vcpus ?? 1),
        swap: '',
        'OS-FLV-EXT-DATA:ephemeral': 0,
        'OS-FLV-DISABLED:disabled': false,
        'os-flavor-access:is_public': true,
        rxtx_factor: 1.0,
        links: [],
      };
      cloud.compute.flavors.set(id, flavor);
      return { status: 200, body: { flavor } };
    }
    const flavor = b ? cloud.compute.flavors.get(b) : undefined;
    if (!flavor) return novaError(404, `Flavor ${b} could not be found.`);
    if (m === 'DELETE') {
      cloud.compute.flavors.delete(String(b));
      return { status: 202 };
    }
    return { status: 200, body: { flavor } };
  }
  if (a === 'os-quota-sets' && b) {
    const quota = cloud.compute.quotas.get(b) ?? { id: b, instances: 10, cores: 20, ram: 51200 };
    if (m === 'PUT') {
      const wanted = (req.body.quota_set as Json | undefined) ?? {};
      const used = usage(cloud, b);
      for (const key of ['instances', 'ram'] as const) {
        const limit = wanted[key];
        if (typeof limit === 'number' && limit >= 0 && limit < used[key])
          return novaError(
            400,
            `Quota limit ${limit} for ${key} must be greater than or equal to already used and reserved ${used[key]}.`,
          );
      }
      Object.assign(quota, wanted);
      cloud.compute.quotas.set(b, quota);
    }
    return { status: 200, body: { quota_set: quota } };
  }
  if (a === 'os-hypervisors' && m === 'GET')
    return {
      status: 200,
      body: { hypervisors: [{ id: 1, hypervisor_hostname: 'standin-host', state: 'up', status: 'enabled' }] },
    };
  return novaError(404, 'The resource could not be found.');
}

/** Instances and RAM a project uses. */
function usage(cloud: CloudState, projectId: string): { instances: number; ram: number } {
  let instances = 0;
  let ram = 0;
  for (const server of cloud.compute.servers.values()) {
    if (server.tenant_id !== projectId) continue;
    instances++;
    ram += Number(cloud.compute.flavors.get(String((server.flavor as Json).id))?.ram ?? 0);
  }
  return { instances, ram };
}

function createServer(cloud: CloudState, req: Req, v: string, projectId: string, makePort: PortMaker): Reply {
  const s = (req.body.server as Json | undefined) ?? {};
  if (!s.flavorRef)
    return novaError(
      400,
      `Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. 'flavorRef' is a required property`,
    );
  if (atLeast(v, 37) && s.networks === undefined)
    return novaError(
      400,
      `Invalid input for field/attribute server. Value: ${JSON.stringify(s)}. 'networks' is a required property`,
    );
  const image = cloud.images.get(String(s.imageRef));
  if (image?.status !== 'active' || !image) return novaError(400, 'Can not find requested image');
  const flavor = cloud.compute.flavors.get(String(s.flavorRef));
  if (!flavor) return novaError(400, `Flavor ${String(s.flavorRef)} could not be found.`);
  const nets = Array.isArray(s.networks) ? (s.networks as Json[]) : [];
  for (const n of nets) {
    if (n.uuid && !cloud.network.networks.has(String(n.uuid)))
      return novaError(400, `Network ${String(n.uuid)} could not be found.`);
    if (n.port && !cloud.network.ports.has(String(n.port)))
      return novaError(400, `Port id ${String(n.port)} could not be found.`);
  }
  const quota = cloud.compute.quotas.get(projectId) ?? { instances: 10, ram: 51200 };
  const used = usage(cloud, projectId);
  const maxInstances = Number(quota.instances);
  const maxRam = Number(quota.ram);
  if (maxInstances >= 0 && used.instances + 1 > maxInstances)
    return novaError(
      403,
      `Quota exceeded for instances: Requested 1, but already used ${used.instances} of ${maxInstances} instances`,
    );
  if (maxRam >= 0 && used.ram + Number(flavor.ram) > maxRam)
    return novaError(
      403,
      `Quota exceeded for ram: Requested ${Number(flavor.ram)}, but already used ${used.ram} of ${maxRam} ram`,
    );
  const id = uuid();
  const server: Json = {
    id,
    name: s.name,
    tenant_id: projectId,
    user_id: req.auth?.userId,
    metadata: (s.metadata as Json | undefined) ?? {},
    hostId: '',
    image: { id: image.id, links: [] },
    flavor: { id: flavor.id, links: [] },
    created: stamp(),
    updated: stamp(),
    addresses: {},
    accessIPv4: '',
    accessIPv6: '',
    links: [],
    'OS-DCF:diskConfig': 'MANUAL',
    progress: 0,
    'OS-EXT-AZ:availability_zone': 'nova',
    config_drive: '',
    key_name: null,
    security_groups: [{ name: 'default' }],
    'OS-EXT-SRV-ATTR:host': null,
    'OS-EXT-SRV-ATTR:instance_name': `instance-${(cloud.compute.servers.size + 1).toString(16).padStart(8, '0')}`,
    'OS-EXT-SRV-ATTR:hypervisor_hostname': null,
    'os-extended-volumes:volumes_attached': [],
  };
  setStatus(server, 'BUILD', 'scheduling', 'building', 0);
  const ports: Json[] = [];
  for (const n of nets) {
    if (n.port) ports.push(cloud.network.ports.get(String(n.port)) as Json);
    else {
      const made = makePort(String(n.uuid), projectId, '');
      if ('status' in made && typeof made.status === 'number' && 'body' in made) return made as Reply;
      cloud.novaPorts.add(String((made as Json).id));
      (made as Json).device_id = id;
      ports.push(made as Json);
    }
  }
  for (const p of ports) p.device_id = id;
  cloud.compute.servers.set(id, server);
  const build = cloud.knobs.buildMs;
  if (Number(flavor.ram) > cloud.knobs.hostRamMb) {
    cloud.later(Math.max(1, build / 4), () => {
      if (!cloud.compute.servers.has(id)) return;
      setStatus(server, 'ERROR', null, 'error', 0);
      server.fault = {
        code: 500,
        created: stamp(),
        message: 'No valid host was found. ',
        details: 'Traceback (stand-in)',
      };
    });
  } else {
    cloud.later(Math.max(1, build / 2), () => {
      if (cloud.compute.servers.has(id) && server.status === 'BUILD')
        setStatus(server, 'BUILD', 'spawning', 'building', 0);
    });
    cloud.later(build, () => {
      if (!cloud.compute.servers.has(id) || server.status !== 'BUILD') return;
      for (const p of ports) bind(cloud, server, p);
      server['OS-EXT-SRV-ATTR:host'] = 'standin-host';
      server['OS-EXT-SRV-ATTR:hypervisor_hostname'] = 'standin-host';
      server['OS-SRV-USG:launched_at'] = new Date().toISOString().replace('Z', '');
      setStatus(server, 'ACTIVE', null, 'active', 1);
    });
  }
  return {
    status: 202,
    headers: { location: `/v2.1/servers/${id}` },
    body: {
      server: {
        id,
        links: [],
        'OS-DCF:diskConfig': 'MANUAL',
        security_groups: [{ name: 'default' }],
        adminPass: uuid().slice(0, 12),
      },
    },
  };
}

/** Nova finished deleting: its own ports go, ports passed in survive unbound. */
function destroy(cloud: CloudState, server: Json): void {
  cloud.compute.servers.delete(String(server.id));
  for (const port of [...cloud.network.ports.values()]) {
    if (port.device_id !== server.id) continue;
    if (cloud.novaPorts.delete(String(port.id))) cloud.network.ports.delete(String(port.id));
    else {
      port.device_id = '';
      port.device_owner = '';
      port.status = 'DOWN';
      port['binding:vif_type'] = 'unbound';
      port['binding:host_id'] = '';
    }
  }
}
