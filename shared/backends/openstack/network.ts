/**
 * Neutron clients: ControllerNetwork -> network + subnet (+ a router with an interface on the
 * subnet for networks whose template is public; networks of a template naming a shared network
 * are looked up, never created, as XOS did), and Port -> Neutron port (the port Nova made for the
 * instance on that network is adopted and named; otherwise a port is created and attached).
 */
import { RetryableBackendError, TerminalBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { DriverContext, ExternalClient, Handle, Observation } from '../driver';
import { type Json, type OpenStackApi, relative, requireRelative } from './api';
import { liveServer } from './compute';
import { addressPlan, defaultSubnet, resourceName } from './names';

const ABSENT: Observation = { exists: false, upToDate: false, settled: false };
/** Description of an adopted port that Nova made when it booted the server (and deletes with it). */
const NOVA_MADE = 'made by Nova for the server; XOS Port';
const q = encodeURIComponent;

/** What one XOS network should be in Neutron. */
interface NetworkWish {
  readonly network: StoredObject;
  readonly name: string;
  readonly routerName: string;
  readonly cidr: string;
  readonly plan: { gateway: string; start: string; end: string };
  readonly isPublic: boolean;
  /** Set when the template names an existing network to share (never created or deleted here). */
  readonly shared?: { readonly id?: string; readonly name?: string };
}

async function networkWish(obj: StoredObject, ctx: DriverContext): Promise<NetworkWish> {
  const network = await requireRelative(ctx, 'Network', obj.network_id);
  const template = await relative(ctx, 'NetworkTemplate', network.template_id);
  const cidr = typeof network.subnet === 'string' && network.subnet ? network.subnet : defaultSubnet(network.id);
  const sharedId = template?.shared_network_id;
  const sharedName = template?.shared_network_name;
  return {
    network,
    name: resourceName('net', network.id),
    routerName: resourceName('router', network.id),
    cidr,
    plan: addressPlan(cidr, network.start_ip, network.end_ip),
    isPublic: template?.visibility === 'public',
    shared:
      sharedId || sharedName
        ? { id: typeof sharedId === 'string' ? sharedId : undefined, name: String(sharedName ?? '') }
        : undefined,
  };
}

/** ControllerNetwork -> Neutron network, subnet and (public templates) router. */
export function networkClient(api: OpenStackApi): ExternalClient {
  const findShared = async (shared: NonNullable<NetworkWish['shared']>): Promise<Json | undefined> => {
    if (shared.id) {
      const reply = await api.session.call('network', 'GET', `/networks/${shared.id}`, {
        ok: [404],
        action: `find shared Neutron network ${shared.id}`,
      });
      return reply.status === 404 ? undefined : ((reply.body as Json).network as Json);
    }
    return (await api.neutronList('networks', `name=${q(shared.name ?? '')}`, `find shared network ${shared.name}`))[0];
  };
  const subnetOf = async (wish: NetworkWish, net: Json): Promise<Json | undefined> =>
    (await api.neutronList('subnets', `network_id=${String(net.id)}`, `list subnets of ${wish.name}`))[0];
  const routerOf = async (wish: NetworkWish): Promise<Json | undefined> =>
    (await api.neutronList('routers', `name=${q(wish.routerName)}`, `find Neutron router ${wish.routerName}`))[0];
  const routerAttached = async (router: Json, net: Json): Promise<boolean> =>
    (
      await api.neutronList(
        'ports',
        `device_id=${String(router.id)}&network_id=${String(net.id)}`,
        `list the interfaces of router ${String(router.id)}`,
      )
    ).length > 0;

  const feedbackOf = (net: Json, subnet?: Json, router?: Json): Record<string, unknown> => {
    const pool = (subnet?.allocation_pools as Json[] | undefined)?.[0];
    const segment = net['provider:segmentation_id'];
    return {
      net_id: String(net.id),
      subnet_id: subnet ? String(subnet.id) : null,
      subnet: subnet ? String(subnet.cidr) : null,
      gateway: typeof subnet?.gateway_ip === 'string' ? subnet.gateway_ip : null,
      start_ip: typeof pool?.start === 'string' ? pool.start : null,
      stop_ip: typeof pool?.end === 'string' ? pool.end : null,
      segmentation_id: segment === null || segment === undefined ? null : String(segment),
      router_id: router ? String(router.id) : null,
    };
  };

  const ensure = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    const wish = await networkWish(obj, ctx);
    if (wish.shared) {
      const net = await findShared(wish.shared);
      if (!net)
        throw new TerminalBackendError(`openstack: shared network ${wish.shared.id ?? wish.shared.name} not found`);
      return { network_id: String(net.id), shared: true };
    }
    const project = await api.sliceProject(String(wish.network.owner_id));
    const projectId = String(project.id);
    let net = await api.findNetwork(wish.network.id);
    if (!net) {
      const reply = await api.session.call('network', 'POST', '/networks', {
        body: { network: { name: wish.name, project_id: projectId, admin_state_up: true, shared: false } },
        action: `create Neutron network ${wish.name}`,
      });
      net = (reply.body as Json).network as Json;
    }
    let subnet = await subnetOf(wish, net);
    if (!subnet) {
      const reply = await api.session.call('network', 'POST', '/subnets', {
        body: {
          subnet: {
            name: wish.name,
            network_id: String(net.id),
            project_id: projectId,
            ip_version: 4,
            cidr: wish.cidr,
            gateway_ip: wish.plan.gateway,
            allocation_pools: [{ start: wish.plan.start, end: wish.plan.end }],
            enable_dhcp: false,
            dns_nameservers: ['8.8.8.8'],
          },
        },
        action: `create Neutron subnet ${wish.cidr} of ${wish.name}`,
      });
      subnet = (reply.body as Json).subnet as Json;
    }
    const handle: Handle = { network_id: String(net.id), subnet_id: String(subnet.id) };
    if (wish.isPublic) {
      let router = await routerOf(wish);
      if (!router) {
        const reply = await api.session.call('network', 'POST', '/routers', {
          body: { router: { name: wish.routerName, project_id: projectId, admin_state_up: true } },
          action: `create Neutron router ${wish.routerName}`,
        });
        router = (reply.body as Json).router as Json;
      }
      if (!(await routerAttached(router, net))) {
        await api.session.call('network', 'PUT', `/routers/${String(router.id)}/add_router_interface`, {
          body: { subnet_id: String(subnet.id) },
          action: `attach router ${wish.routerName} to subnet ${String(subnet.id)}`,
        });
      }
      return { ...handle, router_id: String(router.id) };
    }
    return handle;
  };

  return {
    async observe(obj, ctx) {
      const wish = await networkWish(obj, ctx);
      if (wish.shared) {
        const net = await findShared(wish.shared);
        if (!net) return ABSENT;
        const subnetId = (net.subnets as string[] | undefined)?.[0];
        return {
          exists: true,
          upToDate: true,
          settled: true,
          handle: { network_id: String(net.id), shared: true },
          feedback: { net_id: String(net.id), subnet_id: subnetId ?? null },
        };
      }
      const net = await api.findNetwork(wish.network.id);
      if (!net) return ABSENT;
      const subnet = await subnetOf(wish, net);
      const router = wish.isPublic ? await routerOf(wish) : undefined;
      const routed = !wish.isPublic || (router !== undefined && (await routerAttached(router, net)));
      return {
        exists: true,
        upToDate: subnet !== undefined && subnet.cidr === wish.cidr && routed,
        settled: true,
        handle: { network_id: String(net.id), subnet_id: subnet ? String(subnet.id) : null },
        feedback: feedbackOf(net, subnet, router),
      };
    },
    create: ensure,
    update: ensure,
    async delete(obj, ctx) {
      const wish = await networkWish(obj, ctx);
      if (wish.shared) return;
      const net = await api.findNetwork(wish.network.id);
      const router = await routerOf(wish);
      if (router) {
        if (net) {
          const subnet = await subnetOf(wish, net);
          if (subnet && (await routerAttached(router, net)))
            await api.session.call('network', 'PUT', `/routers/${String(router.id)}/remove_router_interface`, {
              body: { subnet_id: String(subnet.id) },
              ok: [404],
              action: `detach router ${wish.routerName}`,
            });
        }
        await api.session.call('network', 'DELETE', `/routers/${String(router.id)}`, {
          ok: [404],
          action: `delete Neutron router ${wish.routerName}`,
        });
      }
      // Deleting the network deletes its subnets; a port still on it gives 409 NetworkInUse (retried).
      if (net)
        await api.session.call('network', 'DELETE', `/networks/${String(net.id)}`, {
          ok: [404],
          action: `delete Neutron network ${wish.name}`,
        });
    },
  };
}

/** Port -> Neutron port on the instance's server. */
export function portClient(api: OpenStackApi): ExternalClient {
  const locate = async (obj: StoredObject, ctx: DriverContext) => {
    const name = resourceName('port', obj.id);
    const instance = await relative(ctx, 'Instance', obj.instance_id);
    const server = instance ? await liveServer(api, instance.id) : undefined;
    const named = (await api.neutronList('ports', `name=${q(name)}`, `find Neutron port ${name}`))[0];
    return { name, instance, server, port: named };
  };
  const ensure = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    const found = await locate(obj, ctx);
    const net = await api.findNetwork(String(obj.network_id));
    if (!net) throw new RetryableBackendError(`openstack: network of Port ${obj.id} does not exist yet`);
    if (!found.server) throw new RetryableBackendError(`openstack: server of Port ${obj.id} does not exist yet`);
    const serverId = String(found.server.id);
    const projectId = await api.scopable(String(found.server.tenant_id));
    let port = found.port;
    if (!port) {
      // Nova made a port on this network when it booted the server: adopt it under our name.
      const [novaPort] = await api.neutronList(
        'ports',
        `network_id=${String(net.id)}&device_id=${serverId}`,
        `find the port of server ${serverId} on network ${String(net.id)}`,
      );
      if (novaPort) {
        const reply = await api.session.call('network', 'PUT', `/ports/${String(novaPort.id)}`, {
          body: { port: { name: found.name, description: NOVA_MADE } },
          action: `name Neutron port ${String(novaPort.id)} ${found.name}`,
        });
        port = (reply.body as Json).port as Json;
      } else {
        const fixedIps = typeof obj.ip === 'string' && obj.ip ? [{ ip_address: obj.ip }] : undefined;
        const reply = await api.session.call('network', 'POST', '/ports', {
          body: {
            port: {
              name: found.name,
              network_id: String(net.id),
              project_id: projectId,
              ...(fixedIps ? { fixed_ips: fixedIps } : {}),
              ...(typeof obj.mac === 'string' && obj.mac ? { mac_address: obj.mac } : {}),
            },
          },
          action: `create Neutron port ${found.name}`,
        });
        port = (reply.body as Json).port as Json;
      }
    }
    if (!port.device_id) {
      await api.session.call('compute', 'POST', `/servers/${serverId}/os-interface`, {
        body: { interfaceAttachment: { port_id: String(port.id) } },
        projectId,
        action: `attach port ${found.name} to server ${serverId}`,
      });
    }
    return { port_id: String(port.id) };
  };
  return {
    async observe(obj, ctx) {
      const found = await locate(obj, ctx);
      if (!found.port) return ABSENT;
      const attached = !found.server || found.port.device_id === found.server.id;
      return {
        exists: true,
        upToDate: attached,
        settled: true,
        handle: { port_id: String(found.port.id) },
        feedback: { port_id: String(found.port.id) },
      };
    },
    create: ensure,
    update: ensure,
    async delete(obj, ctx) {
      const name = resourceName('port', obj.id);
      const instance = await relative(ctx, 'Instance', obj.instance_id);
      for (const port of await api.neutronList('ports', `name=${q(name)}`, `find Neutron port ${name}`)) {
        // A port Nova made goes with its server: deleting it first would leave a server without its
        // NIC and free the network before the server is gone.
        if (port.description === NOVA_MADE && port.device_id && (!instance || instance.deleted)) continue;
        await api.session.call('network', 'DELETE', `/ports/${String(port.id)}`, {
          ok: [404],
          action: `delete Neutron port ${name}`,
        });
      }
    },
  };
}
