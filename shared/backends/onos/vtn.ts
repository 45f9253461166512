/**
 * VTN service networks and service dependencies (the original vtn-service synchronizer, and
 * docs/xos_vtn.md of XOS): an ONOS-managed Network is a ServiceNetwork at
 * /onos/cordvtn/serviceNetworks[/id] (present only while org.opencord.vtn is active); a
 * ServiceDependency with connect_method private adds the provider service's networks to each
 * subscriber network's `providers` (bidirectional, as XOS's default); with connect_method public
 * it is the VN gateway: XOS's own flow rules on the gateway switch the provider service names,
 * steering each subscriber subnet out by the uplink and back by the downlink. The Network owns its
 * fields, the dependency owns its provider links and flows: each preserves what the other wrote.
 */
import { RetryableBackendError, TerminalBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { DriverContext, ExternalClient, Handle, Observation } from '../driver';
import type { OnosClient } from './client';
import {
  type FlowRule,
  gatewayFlows,
  isSameFlow,
  type ProviderLink,
  type ServiceNetworkFields,
  sameJson,
  serviceNetworkMatches,
  serviceNetworkOf,
  vnGatewayOf,
  XOS_FLOW_APP,
} from './mapping';
import { isOnosNetwork, onosNetworksOfService } from './placement';

const VTN_APP = 'org.opencord.vtn';
const netPath = (id: string) => `/onos/cordvtn/serviceNetworks/${encodeURIComponent(id)}`;

type ServiceNetwork = ServiceNetworkFields & { providers?: ProviderLink[] } & Record<string, unknown>;

/** VTN reads and writes shared by networks and dependencies. */
class Vtn {
  constructor(private readonly onos: OnosClient) {}

  async active(): Promise<boolean> {
    const r = await this.onos.call('GET', `/onos/v1/applications/${VTN_APP}`, {
      ok: [200, 404],
      action: `get ONOS app ${VTN_APP}`,
    });
    return r.status === 200 && (r.body as { state?: string }).state === 'ACTIVE';
  }

  async requireActive(what: string): Promise<void> {
    if (!(await this.active())) throw new RetryableBackendError(`onos: ${what} waits for app ${VTN_APP} to be active`);
  }

  async get(id: string): Promise<ServiceNetwork | undefined> {
    const r = await this.onos.call('GET', netPath(id), { ok: [200, 404], action: `get VTN service network ${id}` });
    return r.status === 200 ? ((r.body as { ServiceNetwork: ServiceNetwork }).ServiceNetwork ?? undefined) : undefined;
  }

  async put(net: ServiceNetwork): Promise<void> {
    await this.onos.call('PUT', netPath(net.id), {
      body: { ServiceNetwork: net },
      ok: [200],
      action: `update VTN service network ${net.id}`,
    });
  }

  async create(net: ServiceNetwork): Promise<boolean> {
    const r = await this.onos.call('POST', '/onos/cordvtn/serviceNetworks', {
      body: { ServiceNetwork: net },
      ok: [200, 201, 409],
      action: `create VTN service network ${net.id}`,
    });
    return r.status !== 409;
  }

  async remove(id: string): Promise<void> {
    await this.onos.call('DELETE', netPath(id), { ok: [200, 204, 404], action: `delete VTN service network ${id}` });
  }
}

async function templateOf(obj: StoredObject, ctx: DriverContext): Promise<StoredObject> {
  const template = await isOnosNetwork(ctx, obj);
  if (!template) throw new TerminalBackendError(`Network ${obj.id} is not managed by ONOS`);
  return template;
}

/** The ExternalClient for ONOS-managed Networks. */
export function networkClient(onos: OnosClient): ExternalClient {
  const vtn = new Vtn(onos);
  const apply = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    await vtn.requireActive(`Network ${obj.id}`);
    const want = serviceNetworkOf(obj, await templateOf(obj, ctx));
    const have = await vtn.get(want.id);
    if (!have && (await vtn.create({ ...want, providers: [] }))) return { vtn_network_id: want.id };
    const current = have ?? (await vtn.get(want.id));
    await vtn.put({ ...want, providers: current?.providers ?? [] });
    return { vtn_network_id: want.id };
  };
  return {
    async observe(obj, ctx): Promise<Observation> {
      await vtn.requireActive(`Network ${obj.id}`);
      const want = serviceNetworkOf(obj, await templateOf(obj, ctx));
      const have = await vtn.get(want.id);
      if (!have) return { exists: false, upToDate: false, settled: false };
      return {
        exists: true,
        upToDate: serviceNetworkMatches(want, have),
        settled: true,
        handle: { vtn_network_id: want.id },
      };
    },
    create: apply,
    update: apply,
    async delete(obj) {
      // Without VTN active its resources are gone already (Jersey answers 404).
      await vtn.remove(obj.id);
    },
  };
}

interface FlowRef {
  readonly deviceId: string;
  readonly flowId: string;
}

interface DependencyPlan {
  readonly subscribers: StoredObject[];
  /** Provider links every subscriber network must have. */
  readonly links: ProviderLink[];
  /** Provider network ids this dependency manages (wanted now or written before). */
  readonly managed: Set<string>;
  readonly flows: FlowRule[];
  readonly previousFlows: FlowRef[];
}

/** The ExternalClient for ServiceDependency (VTN provider links, VN-gateway flow rules). */
export function dependencyClient(onos: OnosClient): ExternalClient {
  const vtn = new Vtn(onos);

  const plan = async (obj: StoredObject, ctx: DriverContext, removing = false): Promise<DependencyPlan> => {
    const subscribers = await onosNetworksOfService(ctx, obj.subscriber_service_id);
    const providers = await onosNetworksOfService(ctx, obj.provider_service_id);
    const before = (obj.backend_handle as Handle | null) ?? {};
    const mode = removing ? 'none' : String(obj.connect_method ?? 'none');
    const links = mode === 'private' ? providers.map((p) => ({ id: p.id, bidirectional: true })) : [];
    const managed = new Set([...providers.map((p) => p.id), ...((before.providers as string[] | undefined) ?? [])]);
    let flows: FlowRule[] = [];
    if (mode === 'public') {
      const provider = await ctx.lookup.get('Service', String(obj.provider_service_id));
      if (!provider) throw new TerminalBackendError(`Service ${String(obj.provider_service_id)} not found`);
      const gw = vnGatewayOf(provider);
      flows = subscribers.flatMap((net) => {
        if (typeof net.subnet !== 'string' || net.subnet === '')
          throw new TerminalBackendError(`Network ${net.id} has no subnet: the VN gateway steers by subnet`);
        return gatewayFlows(gw, net.subnet);
      });
    }
    return { subscribers, links, managed, flows, previousFlows: (before.flows as FlowRef[] | undefined) ?? [] };
  };

  /** Provider links of a subscriber network after this dependency's change. */
  const relinked = (net: ServiceNetwork, p: DependencyPlan): ProviderLink[] => [
    ...(net.providers ?? []).filter((l) => !p.managed.has(l.id)),
    ...p.links,
  ];
  const linksHeld = (net: ServiceNetwork, p: DependencyPlan) =>
    sameJson(
      (net.providers ?? []).filter((l) => p.managed.has(l.id)).sort((a, b) => a.id.localeCompare(b.id)),
      [...p.links].sort((a, b) => a.id.localeCompare(b.id)),
    );

  const installedFlows = async (deviceIds: Iterable<string>): Promise<Record<string, unknown>[]> => {
    const out: Record<string, unknown>[] = [];
    for (const device of new Set(deviceIds)) {
      // ONOS answers 404 "Device is not found" for a device that has no flow entries.
      const r = await onos.call('GET', `/onos/v1/flows/${encodeURIComponent(device)}`, {
        ok: [200, 404],
        action: `list flows of ${device}`,
      });
      if (r.status === 200) out.push(...((r.body as { flows?: Record<string, unknown>[] }).flows ?? []));
    }
    return out;
  };
  const ruleHeld = (installed: Record<string, unknown>[], rule: FlowRule) =>
    installed.some(
      (e) =>
        isSameFlow(e, rule) &&
        sameJson((e.treatment as { instructions?: unknown })?.instructions, rule.treatment.instructions),
    );

  const removeFlows = async (refs: readonly FlowRef[]) => {
    for (const f of refs)
      await onos.call('DELETE', `/onos/v1/flows/${encodeURIComponent(f.deviceId)}/${encodeURIComponent(f.flowId)}`, {
        ok: [204, 404],
        action: `delete flow ${f.flowId} on ${f.deviceId}`,
      });
  };

  const apply = async (obj: StoredObject, ctx: DriverContext, removing = false): Promise<Handle> => {
    const p = await plan(obj, ctx, removing);
    if (p.links.length > 0) await vtn.requireActive(`ServiceDependency ${obj.id}`);
    if (p.links.length > 0 || (await vtn.active())) {
      for (const sub of p.subscribers) {
        const net = await vtn.get(sub.id);
        if (!net) {
          if (p.links.length > 0)
            throw new RetryableBackendError(`onos: ServiceDependency ${obj.id} waits for Network ${sub.id} in VTN`);
          continue;
        }
        if (!linksHeld(net, p)) await vtn.put({ ...net, providers: relinked(net, p) });
      }
    }
    let flows: FlowRef[] = [];
    if (p.flows.length > 0) {
      const r = await onos.call('POST', `/onos/v1/flows?appId=${XOS_FLOW_APP}`, {
        body: { flows: p.flows },
        ok: [200],
        action: `install VN-gateway flows for ServiceDependency ${obj.id}`,
      });
      flows = ((r.body as { flows?: FlowRef[] }).flows ?? []).map((f) => ({
        deviceId: f.deviceId,
        flowId: String(f.flowId),
      }));
    }
    const kept = new Set(flows.map((f) => `${f.deviceId}/${f.flowId}`));
    await removeFlows(p.previousFlows.filter((f) => !kept.has(`${f.deviceId}/${f.flowId}`)));
    return { subscriber_networks: p.subscribers.map((s) => s.id), providers: p.links.map((l) => l.id), flows };
  };

  return {
    async observe(obj, ctx): Promise<Observation> {
      const p = await plan(obj, ctx);
      let upToDate = true;
      if (p.links.length > 0 || (await vtn.active())) {
        for (const sub of p.subscribers) {
          const net = p.links.length > 0 || p.managed.size > 0 ? await vtn.get(sub.id) : undefined;
          if (p.links.length > 0 && !net) upToDate = false;
          else if (net && !linksHeld(net, p)) upToDate = false;
        }
      }
      const installed = await installedFlows([
        ...p.flows.map((f) => f.deviceId),
        ...p.previousFlows.map((f) => f.deviceId),
      ]);
      if (!p.flows.every((rule) => ruleHeld(installed, rule))) upToDate = false;
      const wanted = new Set(installed.filter((e) => p.flows.some((r) => isSameFlow(e, r))).map((e) => String(e.id)));
      if (p.previousFlows.some((f) => !wanted.has(f.flowId) && installed.some((e) => String(e.id) === f.flowId)))
        upToDate = false;
      // A dependency always "exists" (create and update are the same reconciliation).
      return { exists: true, upToDate, settled: true };
    },
    create: (obj, ctx) => apply(obj, ctx),
    update: (obj, ctx) => apply(obj, ctx),
    async delete(obj, ctx) {
      await apply(obj, ctx, true);
    },
  };
}
