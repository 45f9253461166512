/**
 * Which ONOS controller serves an object (registered in BACKEND_RESOLVERS):
 * - a Service's ONOS is `service_specific_attribute.onos_controller_id` when set, else the one ONOS
 *   controller bound to the service's site (a SiteDeployment whose controller has backend_type onos);
 * - a ServiceInstance that is an ONOS app, and every `/onos/...` ServiceInstanceAttribute or
 *   ServiceAttribute, go to their service's ONOS;
 * - a Network whose template has controller_kind onos goes to the ONOS bound to its owner slice's site;
 * - a ServiceDependency goes to its subscriber service's ONOS (else the provider's).
 * Anything else has no ONOS presence. Give ONOS controllers their own Deployment: an Instance is
 * placed on the first controller of its deployment.
 */
import { TerminalBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { DriverContext } from '../driver';
import { type ControllerResolver, live, related } from '../router';
import { appSpecOf, isOnosPath } from './mapping';

const get = related;

/** The ONOS controller bound to a site, undefined when none; several is an error. */
export async function onosControllerOfSite(ctx: DriverContext, siteId: unknown): Promise<StoredObject | undefined> {
  if (typeof siteId !== 'string') return undefined;
  const found = new Map<string, StoredObject>();
  for (const sd of await ctx.lookup.referencing('SiteDeployment', 'site_id', siteId)) {
    const c = live(await get(ctx, 'Controller', sd.controller_id));
    if (c?.backend_type === 'onos') found.set(c.id, c);
  }
  if (found.size > 1)
    throw new TerminalBackendError(
      `site ${siteId} is bound to ${found.size} ONOS controllers (${[...found.keys()].join(', ')}): name one in the service's service_specific_attribute.onos_controller_id`,
    );
  return [...found.values()][0];
}

/** The ONOS controller of a service (explicit, else its site's). */
export async function onosControllerOfService(ctx: DriverContext, service: StoredObject | undefined) {
  if (!service) return undefined;
  const ssa = service.service_specific_attribute as Record<string, unknown> | null | undefined;
  const explicit = ssa?.onos_controller_id;
  if (typeof explicit === 'string') {
    const c = live(await get(ctx, 'Controller', explicit));
    if (c?.backend_type !== 'onos')
      throw new TerminalBackendError(
        `Service ${service.id}: onos_controller_id ${explicit} is not a live ONOS controller`,
      );
    return c;
  }
  return onosControllerOfSite(ctx, service.site_id);
}

/** Whether a network is managed by ONOS (its template's controller_kind). */
export async function isOnosNetwork(ctx: DriverContext, network: StoredObject): Promise<StoredObject | undefined> {
  const template = await get(ctx, 'NetworkTemplate', network.template_id);
  return template?.controller_kind === 'onos' ? template : undefined;
}

/** The live ONOS-managed networks of a service's slices. */
export async function onosNetworksOfService(ctx: DriverContext, serviceId: unknown): Promise<StoredObject[]> {
  if (typeof serviceId !== 'string') return [];
  const out: StoredObject[] = [];
  for (const slice of await ctx.lookup.referencing('Slice', 'service_id', serviceId))
    for (const net of await ctx.lookup.referencing('Network', 'owner_id', slice.id))
      if (await isOnosNetwork(ctx, net)) out.push(net);
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

const requireController = (what: string, c: StoredObject | undefined) => {
  if (!c)
    throw new TerminalBackendError(
      `${what} needs an ONOS controller: bind its site to one, or set service_specific_attribute.onos_controller_id on the service`,
    );
  return c;
};

const serviceInstance: ControllerResolver = async (obj, ctx) => {
  if (!appSpecOf(obj)) return undefined;
  return requireController(
    `ONOS app ServiceInstance ${obj.id}`,
    await onosControllerOfService(ctx, await get(ctx, 'Service', obj.owner_id)),
  );
};

const serviceInstanceAttribute: ControllerResolver = async (obj, ctx) => {
  if (!isOnosPath(obj.name)) return undefined;
  const si = await get(ctx, 'ServiceInstance', obj.service_instance_id);
  const service = await get(ctx, 'Service', si?.owner_id);
  const c = await onosControllerOfService(ctx, service);
  return si && appSpecOf(si) ? requireController(`ServiceInstanceAttribute ${obj.id}`, c) : c;
};

const serviceAttribute: ControllerResolver = async (obj, ctx) =>
  isOnosPath(obj.name) ? onosControllerOfService(ctx, await get(ctx, 'Service', obj.service_id)) : undefined;

const network: ControllerResolver = async (obj, ctx) => {
  if (!(await isOnosNetwork(ctx, obj))) return undefined;
  const slice = await get(ctx, 'Slice', obj.owner_id);
  return requireController(`Network ${obj.id} (controller_kind onos)`, await onosControllerOfSite(ctx, slice?.site_id));
};

const serviceDependency: ControllerResolver = async (obj, ctx) =>
  (await onosControllerOfService(ctx, await get(ctx, 'Service', obj.subscriber_service_id))) ??
  (await onosControllerOfService(ctx, await get(ctx, 'Service', obj.provider_service_id)));

/** The placement rules the ONOS driver contributes (kind -> resolver). */
export const ONOS_RESOLVERS: Readonly<Record<string, ControllerResolver>> = {
  ServiceInstance: serviceInstance,
  ServiceInstanceAttribute: serviceInstanceAttribute,
  ServiceAttribute: serviceAttribute,
  Network: network,
  ServiceDependency: serviceDependency,
};
