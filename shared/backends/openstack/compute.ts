/**
 * Nova client: Instance -> server, booted in the slice's project on the networks of the instance's
 * ports, with cloud-config user data carrying the slice members' public keys. Creation is
 * asynchronous: observe reports BUILD as not settled (the Check step polls) and ERROR as a failure
 * carrying Nova's fault message. Delete waits until Nova has really removed the server, so what
 * depends on it (the network, the project) is removed after it.
 */
import { RetryableBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { DriverContext, ExternalClient, Handle, Observation } from '../driver';
import { type Json, type OpenStackApi, relative, requireRelative } from './api';
import { cloudConfig, resourceName } from './names';

const ABSENT: Observation = { exists: false, upToDate: false, settled: false };
const q = encodeURIComponent;
/** How long a server create may take to answer. */
const CREATE_TIMEOUT_MS = 5 * 60_000;
/** Microversion 2.37: `networks: "none"` for an instance without ports. */
const MICROVERSION = { 'openstack-api-version': 'compute 2.37' };

/** Options of the Nova client. */
export interface ComputeOptions {
  /** How long delete waits for Nova to remove a server before retrying later. */
  readonly deleteWaitMs?: number;
  readonly pollMs?: number;
}

const deleting = (s: Json) => s.status === 'DELETED' || s['OS-EXT-STS:task_state'] === 'deleting';

/** Preference among servers of one name: not in ERROR, then the oldest (`created`, then id). */
const rank = (s: Json) => `${s.status === 'ERROR' ? 1 : 0}|${String(s.created)}|${String(s.id)}`;

/**
 * The instance's servers that are not being deleted, the one that stands for it first. More than
 * one exists only when a create was repeated while Nova was still answering the first (a POST can
 * take minutes on a loaded host); update removes the extras.
 */
export async function liveServers(api: OpenStackApi, instanceId: string): Promise<Json[]> {
  const servers = (await api.findServers(resourceName('instance', instanceId))).filter((s) => !deleting(s));
  return servers.sort((a, b) => (rank(a) < rank(b) ? -1 : 1));
}

/** The server that stands for the instance, unless it is being deleted. */
export async function liveServer(api: OpenStackApi, instanceId: string): Promise<Json | undefined> {
  return (await liveServers(api, instanceId))[0];
}

/** First fixed IPv4 address of a server. */
function firstAddress(server: Json): string | null {
  for (const list of Object.values((server.addresses as Record<string, Json[]> | undefined) ?? {})) {
    const v4 = list.find((a) => a.version === 4 && typeof a.addr === 'string');
    if (v4) return String(v4.addr);
  }
  return null;
}

/** Public keys of the slice's members (slice privileges), its creator and the instance's creator. */
async function memberKeys(instance: StoredObject, ctx: DriverContext): Promise<string[]> {
  const slice = await relative(ctx, 'Slice', instance.slice_id);
  const userIds = new Set<string>();
  for (const id of [instance.creator_id, slice?.creator_id]) if (typeof id === 'string') userIds.add(id);
  let privileges: StoredObject[] = [];
  try {
    privileges = await ctx.lookup.referencing('Privilege', 'object_id', String(instance.slice_id), 200);
  } catch {
    privileges = []; // the privilege index is optional: creators' keys still go in
  }
  for (const p of privileges)
    if (p.object_type === 'Slice' && typeof p.accessor_id === 'string') userIds.add(p.accessor_id);
  const keys: string[] = [];
  for (const id of userIds) {
    const user = await relative(ctx, 'User', id);
    if (user && !user.deleted && typeof user.public_key === 'string' && user.public_key.trim())
      keys.push(user.public_key);
  }
  return keys;
}

/** Instance -> Nova server. */
export function instanceClient(api: OpenStackApi, options: ComputeOptions = {}): ExternalClient {
  const flavorRef = async (instance: StoredObject, ctx: DriverContext): Promise<string> => {
    const flavor = await requireRelative(ctx, 'Flavor', instance.flavor_id);
    const name = String(flavor.flavor ?? flavor.name);
    const reply = await api.session.call('compute', 'GET', '/flavors/detail?is_public=None', {
      action: `find Nova flavor ${name}`,
    });
    const found = (((reply.body as Json).flavors as Json[] | undefined) ?? []).find((f) => f.name === name);
    if (found) return String(found.id);
    // A flavor the cloud does not define is made minimal (test clouds); production clouds define theirs.
    const created = await api.session.call('compute', 'POST', '/flavors', {
      body: { flavor: { name, ram: 64, vcpus: 1, disk: 1 } },
      action: `create Nova flavor ${name}`,
    });
    return String(((created.body as Json).flavor as Json).id);
  };

  const imageRef = async (instance: StoredObject): Promise<string> => {
    const name = resourceName('image', String(instance.image_id));
    const reply = await api.session.call('image', 'GET', `/images?name=${q(name)}`, {
      action: `find Glance image ${name}`,
    });
    const image = ((reply.body as Json).images as Json[] | undefined)?.find((i) => i.status === 'active');
    if (!image) throw new RetryableBackendError(`openstack: Glance image ${name} is not active yet`);
    return String(image.id);
  };

  const networks = async (instance: StoredObject, ctx: DriverContext): Promise<Array<{ uuid: string }> | 'none'> => {
    const ports = await ctx.lookup.referencing('Port', 'instance_id', instance.id, 100);
    const ids = [...new Set(ports.map((p) => String(p.network_id)))];
    if (ids.length === 0) return 'none';
    const out: Array<{ uuid: string }> = [];
    for (const id of ids) {
      const net = await api.findNetwork(id);
      if (!net) throw new RetryableBackendError(`openstack: network of Network ${id} does not exist yet`);
      out.push({ uuid: String(net.id) });
    }
    return out;
  };

  return {
    async observe(obj) {
      const [server, ...extra] = await liveServers(api, obj.id);
      if (!server) return ABSENT;
      const name = String(server.name);
      const handle = { server_id: String(server.id), project_id: String(server.tenant_id) };
      if (server.status === 'ERROR') {
        // Nova leaves `fault` out of server lists; only the server itself carries it.
        const one = await api.session.call('compute', 'GET', `/servers/${String(server.id)}`, {
          ok: [404],
          action: `read the fault of Nova server ${name}`,
        });
        const fault = (((one.body as Json | undefined)?.server as Json | undefined)?.fault as Json | undefined)
          ?.message;
        return {
          exists: true,
          upToDate: true,
          settled: true,
          handle,
          failure: `openstack: Nova server ${name} is in ERROR${fault ? `: ${String(fault).trim()}` : ''}`,
        };
      }
      const metadata = (server.metadata as Json | undefined) ?? {};
      return {
        exists: true,
        upToDate: metadata.xos_name === String(obj.name ?? '') && extra.length === 0,
        settled: server.status !== 'BUILD',
        handle,
        feedback: {
          instance_id: String(server.id),
          instance_uuid: String(server.id),
          instance_name: String(server['OS-EXT-SRV-ATTR:instance_name'] ?? name),
          ip: firstAddress(server),
        },
      };
    },
    async create(obj, ctx): Promise<Handle> {
      const existing = await liveServer(api, obj.id);
      if (existing) return { server_id: String(existing.id), project_id: String(existing.tenant_id) };
      const name = resourceName('instance', obj.id);
      const project = await api.sliceProject(String(obj.slice_id));
      const projectId = await api.scopable(String(project.id));
      const [image, flavor, nets, keys] = await Promise.all([
        imageRef(obj),
        flavorRef(obj, ctx),
        networks(obj, ctx),
        memberKeys(obj, ctx),
      ]);
      const node = await relative(ctx, 'Node', obj.node_id);
      const userData = cloudConfig(String(obj.name ?? name), keys, obj.userData);
      const reply = await api.session.call('compute', 'POST', '/servers', {
        body: {
          server: {
            name,
            imageRef: image,
            flavorRef: flavor,
            networks: nets,
            user_data: Buffer.from(userData).toString('base64'),
            metadata: { xos_id: obj.id, xos_name: String(obj.name ?? '') },
            ...(node ? { availability_zone: `nova:${String(node.name)}` } : {}),
          },
        },
        projectId,
        headers: MICROVERSION,
        // Nova validates image, flavor, networks and quota before answering: minutes on a busy host.
        // Timing out early would make the retry boot a second server.
        timeoutMs: CREATE_TIMEOUT_MS,
        action: `create Nova server ${name}`,
      });
      return { server_id: String(((reply.body as Json).server as Json).id), project_id: projectId };
    },
    async update(obj): Promise<Handle> {
      const [server, ...extra] = await liveServers(api, obj.id);
      if (!server) throw new RetryableBackendError(`openstack: server of Instance ${obj.id} vanished during update`);
      for (const dup of extra)
        await api.session.call('compute', 'DELETE', `/servers/${String(dup.id)}`, {
          ok: [404],
          action: `delete duplicate Nova server ${String(dup.id)}`,
        });
      const projectId = await api.scopable(String(server.tenant_id));
      await api.session.call('compute', 'POST', `/servers/${String(server.id)}/metadata`, {
        body: { metadata: { xos_name: String(obj.name ?? '') } },
        projectId,
        action: `update the metadata of Nova server ${String(server.name)}`,
      });
      return { server_id: String(server.id), project_id: projectId };
    },
    async delete(obj) {
      const name = resourceName('instance', obj.id);
      for (const server of await api.findServers(name)) {
        if (!deleting(server))
          await api.session.call('compute', 'DELETE', `/servers/${String(server.id)}`, {
            ok: [404],
            action: `delete Nova server ${name}`,
          });
      }
      const deadline = Date.now() + (options.deleteWaitMs ?? 30_000);
      while ((await api.findServers(name)).length > 0) {
        if (Date.now() > deadline) throw new RetryableBackendError(`openstack: Nova server ${name} is still deleting`);
        await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
      }
    },
  };
}
