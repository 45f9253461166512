/**
 * Neutron v2.0 subset of the stand-in: networks, subnets (CIDR checks, overlap), ports (addresses
 * from the pool, duplicate fixed IP 409, DOWN/unbound until Nova binds them), routers with
 * interfaces, security groups; attribute filters on lists; NeutronError bodies; 409 NetworkInUse.
 */
import { type CloudState, filterBy, type Json, neutronError, type Reply, type Req, stamp, uuid } from './state';

const ALLOWED: Record<string, readonly string[]> = {
  network: [
    'name',
    'admin_state_up',
    'shared',
    'project_id',
    'tenant_id',
    'description',
    'mtu',
    'port_security_enabled',
    'router:external',
    'provider:network_type',
    'provider:physical_network',
    'provider:segmentation_id',
  ],
  subnet: [
    'name',
    'network_id',
    'cidr',
    'ip_version',
    'gateway_ip',
    'enable_dhcp',
    'dns_nameservers',
    'allocation_pools',
    'project_id',
    'tenant_id',
    'description',
    'host_routes',
  ],
  port: [
    'name',
    'network_id',
    'fixed_ips',
    'mac_address',
    'project_id',
    'tenant_id',
    'admin_state_up',
    'description',
    'device_id',
    'device_owner',
    'security_groups',
  ],
  router: ['name', 'project_id', 'tenant_id', 'admin_state_up', 'description', 'external_gateway_info'],
};
const FILTERS = ['id', 'name', 'network_id', 'device_id', 'device_owner', 'project_id', 'tenant_id', 'status'];

let segment = 100;

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
}
const intToIp = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');

function parseCidr(cidr: string): { base: number; bits: number } | undefined {
  const [ip = '', bitsText = ''] = cidr.split('/');
  const base = ipToInt(ip);
  const bits = Number(bitsText);
  if (base === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (base & mask) >>> 0, bits };
}

const mac = () =>
  `fa:16:3e:${[0, 0, 0]
    .map(() =>
      Math.floor(Math.random() * 256)
        .toString(16)
        .padStart(2, '0'),
    )
    .join(':')}`;

/** Allocate the next free address of a network's subnet. */
function allocate(cloud: CloudState, networkId: string, wanted?: string): Json[] | Reply {
  const subnet = [...cloud.network.subnets.values()].find((s) => s.network_id === networkId);
  if (!subnet) return [];
  const used = new Set<string>();
  for (const p of cloud.network.ports.values())
    for (const ip of (p.fixed_ips as Json[]) ?? []) if (ip.subnet_id === subnet.id) used.add(String(ip.ip_address));
  if (wanted) {
    if (used.has(wanted))
      return neutronError(
        409,
        'IpAddressAlreadyAllocated',
        `IP address ${wanted} already allocated in subnet ${String(subnet.id)}`,
      );
    return [{ subnet_id: subnet.id, ip_address: wanted }];
  }
  const pool = ((subnet.allocation_pools as Json[]) ?? [])[0] ?? {};
  const start = ipToInt(String(pool.start)) ?? 0;
  const end = ipToInt(String(pool.end)) ?? 0;
  for (let n = start; n <= end; n++) {
    if (!used.has(intToIp(n))) return [{ subnet_id: subnet.id, ip_address: intToIp(n) }];
  }
  return neutronError(409, 'IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);
}

const isReply = (x: Json[] | Json | Reply): x is Reply =>
  !Array.isArray(x) && typeof x.status === 'number' && 'body' in x;

/** Create a port (used by the API and by Nova for a server's `networks: [{uuid}]`). */
export function createPort(cloud: CloudState, body: Json, projectId: string): Json | Reply {
  const networkId = String(body.network_id ?? '');
  if (!cloud.network.networks.has(networkId))
    return neutronError(404, 'NetworkNotFound', `Network ${networkId} could not be found.`);
  const wanted = ((body.fixed_ips as Json[] | undefined) ?? [])[0]?.ip_address;
  const ips = allocate(cloud, networkId, typeof wanted === 'string' ? wanted : undefined);
  if (isReply(ips)) return ips;
  const owner = String(body.project_id ?? body.tenant_id ?? projectId);
  const id = uuid();
  const port: Json = {
    id,
    name: String(body.name ?? ''),
    network_id: networkId,
    tenant_id: owner,
    project_id: owner,
    mac_address: String(body.mac_address ?? mac()),
    admin_state_up: body.admin_state_up !== false,
    status: 'DOWN',
    device_id: String(body.device_id ?? ''),
    device_owner: String(body.device_owner ?? ''),
    fixed_ips: ips,
    port_security_enabled: true,
    security_groups: [cloud.defaultSecurityGroup(owner)],
    'binding:vnic_type': 'normal',
    'binding:profile': {},
    'binding:host_id': '',
    'binding:vif_type': 'unbound',
    'binding:vif_details': {},
    allowed_address_pairs: [],
    extra_dhcp_opts: [],
    description: String(body.description ?? ''),
    tags: [],
    created_at: stamp(),
    updated_at: stamp(),
    revision_number: 1,
  };
  cloud.network.ports.set(id, port);
  return port;
}

const COLLECTIONS: Record<string, { one: string; map: (c: CloudState) => Map<string, Json> }> = {
  networks: { one: 'network', map: (c) => c.network.networks },
  subnets: { one: 'subnet', map: (c) => c.network.subnets },
  ports: { one: 'port', map: (c) => c.network.ports },
  routers: { one: 'router', map: (c) => c.network.routers },
  'security-groups': { one: 'security_group', map: (c) => c.network.securityGroups },
};

const NOT_FOUND: Record<string, string> = {
  network: 'NetworkNotFound',
  subnet: 'SubnetNotFound',
  port: 'PortNotFound',
  router: 'RouterNotFound',
  security_group: 'SecurityGroupNotFound',
};

/** Handle a Neutron request (path below `/v2.0`). */
export function neutron(cloud: CloudState, req: Req): Reply {
  const [a = '', b, c] = req.parts;
  const col = COLLECTIONS[a];
  if (!col) return neutronError(404, 'HTTPNotFound', 'The resource could not be found.');
  const items = col.map(cloud);
  const m = req.method;
  const projectId = req.auth?.projectId ?? '';
  if (!b) {
    if (m === 'GET') return { status: 200, body: { [a]: filterBy(items.values(), req.query, FILTERS) } };
    if (m !== 'POST') return neutronError(405, 'HTTPMethodNotAllowed', 'Method not allowed');
    const body = (req.body[col.one] as Json | undefined) ?? {};
    const unknown = Object.keys(body).filter((k) => !(ALLOWED[col.one] ?? []).includes(k));
    if (unknown.length > 0)
      return neutronError(400, 'HTTPBadRequest', `Unrecognized attribute(s) '${unknown.join(', ')}'`);
    const created = create(cloud, col.one, body, projectId);
    if (isReply(created)) return created;
    return { status: 201, body: { [col.one]: created } };
  }
  const item = items.get(b);
  if (!item) return neutronError(404, NOT_FOUND[col.one] ?? 'NotFound', `${capital(col.one)} ${b} could not be found.`);
  if (col.one === 'router' && m === 'PUT' && (c === 'add_router_interface' || c === 'remove_router_interface'))
    return routerInterface(cloud, item, c, req.body);
  if (m === 'GET') return { status: 200, body: { [col.one]: item } };
  if (m === 'PUT') {
    const patch = (req.body[col.one] as Json | undefined) ?? {};
    Object.assign(item, patch, { updated_at: stamp(), revision_number: Number(item.revision_number ?? 0) + 1 });
    return { status: 200, body: { [col.one]: item } };
  }
  if (m === 'DELETE') {
    if (col.one === 'network') {
      const inUse = [...cloud.network.ports.values()].filter((p) => p.network_id === b).map((p) => String(p.id));
      if (inUse.length > 0)
        return neutronError(
          409,
          'NetworkInUse',
          `Unable to complete operation on network ${b}. There are one or more ports still in use on the network, id for these ports is: ${inUse.join(',')}.`,
        );
      for (const s of [...cloud.network.subnets.values()])
        if (s.network_id === b) cloud.network.subnets.delete(String(s.id));
    }
    if (col.one === 'router' && [...cloud.network.ports.values()].some((p) => p.device_id === b))
      return neutronError(409, 'RouterInUse', `Router ${b} still has ports`);
    if (col.one === 'port') cloud.novaPorts.delete(b);
    items.delete(b);
    return { status: 204 };
  }
  return neutronError(405, 'HTTPMethodNotAllowed', 'Method not allowed');
}

const capital = (s: string) => (s === 'security_group' ? 'Security group' : s[0]?.toUpperCase() + s.slice(1));

function create(cloud: CloudState, kind: string, body: Json, projectId: string): Json | Reply {
  const owner = String(body.project_id ?? body.tenant_id ?? projectId);
  const base = {
    id: uuid(),
    tenant_id: owner,
    project_id: owner,
    description: '',
    tags: [],
    created_at: stamp(),
    updated_at: stamp(),
    revision_number: 1,
  };
  if (kind === 'network') {
    const item = {
      ...base,
      name: String(body.name ?? ''),
      admin_state_up: body.admin_state_up !== false,
      mtu: 1450,
      status: 'ACTIVE',
      subnets: [],
      shared: body.shared === true,
      port_security_enabled: true,
      'router:external': body['router:external'] === true,
      'provider:network_type': 'vxlan',
      'provider:physical_network': null,
      'provider:segmentation_id': ++segment,
      is_default: false,
      availability_zone_hints: [],
      availability_zones: [],
    };
    cloud.network.networks.set(item.id, item);
    return item;
  }
  if (kind === 'subnet') {
    const network = cloud.network.networks.get(String(body.network_id));
    if (!network) return neutronError(404, 'NetworkNotFound', `Network ${String(body.network_id)} could not be found.`);
    const cidr = parseCidr(String(body.cidr ?? ''));
    if (!cidr)
      return neutronError(
        400,
        'InvalidInput',
        `Invalid input for operation: ${String(body.cidr)} is not in a CIDR format.`,
      );
    for (const s of cloud.network.subnets.values()) {
      const other = parseCidr(String(s.cidr));
      if (s.network_id !== network.id || !other) continue;
      const bits = Math.min(other.bits, cidr.bits);
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      if ((other.base & mask) >>> 0 === (cidr.base & mask) >>> 0)
        return neutronError(
          400,
          'InvalidInput',
          `Invalid input for operation: Requested subnet with cidr: ${String(body.cidr)} for network: ${String(network.id)} overlaps with another subnet.`,
        );
    }
    const size = 2 ** (32 - cidr.bits);
    const item = {
      ...base,
      name: String(body.name ?? ''),
      network_id: network.id,
      ip_version: 4,
      subnetpool_id: null,
      enable_dhcp: body.enable_dhcp !== false,
      ipv6_ra_mode: null,
      ipv6_address_mode: null,
      gateway_ip: String(body.gateway_ip ?? intToIp(cidr.base + 1)),
      cidr: `${intToIp(cidr.base)}/${cidr.bits}`,
      allocation_pools: (body.allocation_pools as Json[] | undefined) ?? [
        { start: intToIp(cidr.base + 2), end: intToIp(cidr.base + size - 2) },
      ],
      host_routes: [],
      dns_nameservers: (body.dns_nameservers as string[] | undefined) ?? [],
      service_types: [],
      revision_number: 0,
    };
    cloud.network.subnets.set(item.id, item);
    (network.subnets as string[]).push(item.id);
    return item;
  }
  if (kind === 'port') return createPort(cloud, body, projectId);
  if (kind === 'router') {
    const item = {
      ...base,
      name: String(body.name ?? ''),
      admin_state_up: body.admin_state_up !== false,
      status: 'ACTIVE',
      external_gateway_info: null,
      routes: [],
    };
    cloud.network.routers.set(item.id, item);
    return item;
  }
  return neutronError(400, 'HTTPBadRequest', `cannot create ${kind}`);
}

function routerInterface(cloud: CloudState, router: Json, action: string, body: Json): Reply {
  const subnet = cloud.network.subnets.get(String(body.subnet_id ?? ''));
  if (!subnet) return neutronError(404, 'SubnetNotFound', `Subnet ${String(body.subnet_id)} could not be found.`);
  const existing = [...cloud.network.ports.values()].find(
    (p) => p.device_id === router.id && ((p.fixed_ips as Json[]) ?? []).some((ip) => ip.subnet_id === subnet.id),
  );
  if (action === 'remove_router_interface') {
    if (!existing)
      return neutronError(
        404,
        'RouterInterfaceNotFoundForSubnet',
        `Router ${String(router.id)} has no interface on subnet ${String(subnet.id)}`,
      );
    cloud.network.ports.delete(String(existing.id));
    return { status: 200, body: { id: router.id, subnet_id: subnet.id, port_id: existing.id } };
  }
  if (existing)
    return neutronError(
      400,
      'BadRequest',
      `Bad router request: Router already has a port on subnet ${String(subnet.id)}.`,
    );
  const port = createPort(
    cloud,
    {
      network_id: subnet.network_id,
      fixed_ips: [{ ip_address: subnet.gateway_ip }],
      device_id: router.id,
      device_owner: 'network:router_interface',
    },
    String(router.project_id),
  );
  if (isReply(port)) return port;
  port.status = 'ACTIVE';
  return {
    status: 200,
    body: {
      id: router.id,
      subnet_id: subnet.id,
      subnet_ids: [subnet.id],
      port_id: port.id,
      network_id: subnet.network_id,
      tenant_id: router.tenant_id,
      project_id: router.project_id,
    },
  };
}
