/**
 * Model policies (XOS model_policy_*.py): derive dependent objects from the model. They create the
 * placement records per controller (ControllerSite, ControllerSlice, ControllerUser,
 * ControllerNetwork, ControllerImage, ControllerSitePrivilege, ControllerSlicePrivilege) for the
 * controllers of the deployments a site is bound to, ports for an instance's networks (and for the
 * instances already there when a network joins their slice), and clear `lazy_blocked` on a
 * ControllerNetwork once an instance or port needs it. Every policy is idempotent: it creates only
 * what is missing, so running it twice changes nothing.
 */
import { ConflictError } from '../errors';
import type { Caller } from '../model/define';
import { PLACEMENTS } from '../model/graph';
import { requireModel } from '../model/registry';
import { listAll, type ObjectService } from '../objects/service';
import type { Store, StoredObject } from '../store/store';

/** The identity policies write as. */
export const SYNCHRONIZER: Caller = { userId: 'synchronizer', email: 'synchronizer@xos.local', isAdmin: true };

/** What a policy may use. */
export interface PolicyContext {
  readonly objects: ObjectService;
  readonly store: Store;
}

/** A model policy: runs for a live object whose policies are behind its version. */
export type Policy = (obj: StoredObject, ctx: PolicyContext) => Promise<void>;

const m = requireModel;

/** Create unless an object with the same unique key exists; returns true when created. */
async function ensure(ctx: PolicyContext, kind: string, body: Record<string, unknown>): Promise<boolean> {
  try {
    await ctx.objects.create(m(kind), body, SYNCHRONIZER);
    return true;
  } catch (err) {
    if (err instanceof ConflictError) return false;
    throw err;
  }
}

/** Controllers serving a site: those of its SiteDeployments. */
async function controllersOfSite(ctx: PolicyContext, siteId: string): Promise<string[]> {
  const bindings = await listAll(ctx.store, m('SiteDeployment'), { site_id: siteId });
  return [...new Set(bindings.map((b) => b.controller_id).filter((c): c is string => typeof c === 'string'))];
}

async function siteOfSlice(ctx: PolicyContext, sliceId: string): Promise<string | undefined> {
  const slice = await ctx.store.get('Slice', sliceId);
  return slice && !slice.deleted ? (slice.site_id as string) : undefined;
}

async function placeSlice(ctx: PolicyContext, slice: StoredObject): Promise<void> {
  for (const controller of await controllersOfSite(ctx, slice.site_id as string)) {
    await ensure(ctx, 'ControllerSlice', { slice_id: slice.id, controller_id: controller });
  }
}

async function placeUser(ctx: PolicyContext, user: StoredObject): Promise<void> {
  for (const controller of await controllersOfSite(ctx, user.site_id as string)) {
    await ensure(ctx, 'ControllerUser', { user_id: user.id, controller_id: controller });
  }
}

async function placeNetwork(ctx: PolicyContext, network: StoredObject): Promise<void> {
  const site = await siteOfSlice(ctx, network.owner_id as string);
  if (!site) return;
  for (const controller of await controllersOfSite(ctx, site)) {
    // Lazy: not created in the back-end until an instance or port needs it.
    await ensure(ctx, 'ControllerNetwork', { network_id: network.id, controller_id: controller, lazy_blocked: true });
  }
}

/** Clear lazy_blocked on the network's placement records: something now needs them. */
async function unblockNetwork(ctx: PolicyContext, networkId: string): Promise<void> {
  for (const cn of await listAll(ctx.store, m('ControllerNetwork'), { network_id: networkId })) {
    if (cn.lazy_blocked)
      await ctx.objects.update(
        m('ControllerNetwork'),
        cn.id,
        'patch',
        { lazy_blocked: false },
        cn.version,
        SYNCHRONIZER,
      );
  }
}

/**
 * A network newly connected to a slice (owned with autoconnect, or attached by a NetworkSlice, at
 * `since`, the network's last write or the attachment's creation): each live instance of the slice
 * created before that gets a port on it (the drivers attach it to the running VM). Instances
 * created later need nothing: their own policy runs after they exist, so it sees the network. An
 * instance that failed, e.g. an EC2 instance whose slice had no subnet yet, gets a new version: it
 * now has somewhere to start.
 */
async function connectInstances(ctx: PolicyContext, sliceId: string, networkId: string, since: string): Promise<void> {
  const instances = (await listAll(ctx.store, m('Instance'), { slice_id: sliceId })).filter(
    (i) => !i.deleted && i.created <= since,
  );
  if (instances.length === 0) return;
  // Usually the instances' own policy got there first: one query instead of a refused create each.
  const ported = new Set((await listAll(ctx.store, m('Port'), { network_id: networkId })).map((p) => p.instance_id));
  for (const instance of instances) {
    if (ported.has(instance.id)) continue;
    const created = await ensure(ctx, 'Port', { network_id: networkId, instance_id: instance.id, xos_created: true });
    if (created && instance.backend_code === 2) {
      try {
        await ctx.objects.update(m('Instance'), instance.id, 'patch', {}, instance.version, SYNCHRONIZER);
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err; // it moved: that version runs anyway
      }
    }
  }
  await unblockNetwork(ctx, networkId);
}

/** Networks an instance of a slice connects to: owned with autoconnect, or attached by NetworkSlice. */
async function networksOfSlice(ctx: PolicyContext, sliceId: string): Promise<string[]> {
  const owned = (await listAll(ctx.store, m('Network'), { owner_id: sliceId })).filter((n) => n.autoconnect === true);
  const attached = await listAll(ctx.store, m('NetworkSlice'), { slice_id: sliceId });
  return [...new Set([...owned.map((n) => n.id), ...attached.map((a) => a.network_id as string)])];
}

/**
 * A placed object changed (a Slice's quota or exposed ports, a User's email, a Network's subnet):
 * its placement records derive their back-end state from it, so each live one gets a new version
 * to enact (the cord-3.0 policy loop propagated `updated` to inverse dependents the same way).
 * Runs after the kind's policy, for every version after the first.
 */
export async function refreshPlacements(obj: StoredObject, ctx: PolicyContext): Promise<number> {
  let touched = 0;
  for (const model of PLACEMENTS.get(obj.kind) ?? []) {
    for (const record of await listAll(ctx.store, model, { [model.places as string]: obj.id })) {
      if (record.deleted) continue;
      try {
        await ctx.objects.update(model, record.id, 'patch', {}, record.version, SYNCHRONIZER);
        touched++;
      } catch (err) {
        // It moved meanwhile: that newer version is reconciled against the placed object anyway.
        if (!(err instanceof ConflictError)) throw err;
      }
    }
  }
  return touched;
}

/** The policies per kind. Kinds without one only record policed_version. */
export const POLICIES: Readonly<Record<string, Policy>> = {
  async Site(site, ctx) {
    for (const controller of await controllersOfSite(ctx, site.id)) {
      await ensure(ctx, 'ControllerSite', { site_id: site.id, controller_id: controller });
    }
  },
  async SiteDeployment(binding, ctx) {
    // A site bound to a controller after its slices and users exist: place them all there.
    const controller = binding.controller_id as string | null;
    if (!controller) return;
    const site = binding.site_id as string;
    await ensure(ctx, 'ControllerSite', { site_id: site, controller_id: controller });
    for (const slice of await listAll(ctx.store, m('Slice'), { site_id: site })) await placeSlice(ctx, slice);
    for (const user of await listAll(ctx.store, m('User'), { site_id: site })) await placeUser(ctx, user);
  },
  Slice: (slice, ctx) => placeSlice(ctx, slice),
  User: (user, ctx) => placeUser(ctx, user),
  async Network(network, ctx) {
    await placeNetwork(ctx, network);
    if (network.autoconnect === true && typeof network.owner_id === 'string')
      await connectInstances(ctx, network.owner_id, network.id, network.updated);
  },
  NetworkSlice: (attachment, ctx) =>
    connectInstances(ctx, attachment.slice_id as string, attachment.network_id as string, attachment.created),
  async Image(image, ctx) {
    for (const controller of await listAll(ctx.store, m('Controller'), {})) {
      await ensure(ctx, 'ControllerImage', { image_id: image.id, controller_id: controller.id });
    }
  },
  async Privilege(privilege, ctx) {
    const type = privilege.object_type;
    const target = privilege.object_id as string;
    if (type === 'Site') {
      for (const controller of await controllersOfSite(ctx, target)) {
        await ensure(ctx, 'ControllerSitePrivilege', { site_privilege_id: privilege.id, controller_id: controller });
      }
    } else if (type === 'Slice') {
      const site = await siteOfSlice(ctx, target);
      if (!site) return;
      for (const controller of await controllersOfSite(ctx, site)) {
        await ensure(ctx, 'ControllerSlicePrivilege', { slice_privilege_id: privilege.id, controller_id: controller });
      }
    }
  },
  async Instance(instance, ctx) {
    for (const network of await networksOfSlice(ctx, instance.slice_id as string)) {
      await ensure(ctx, 'Port', { network_id: network, instance_id: instance.id, xos_created: true });
      await unblockNetwork(ctx, network);
    }
  },
  async Port(port, ctx) {
    await unblockNetwork(ctx, port.network_id as string);
  },
};
