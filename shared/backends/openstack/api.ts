/**
 * The OpenStack calls the per-kind clients share: lookups by name (every create finds first),
 * the domain and role ids (cached for the session), and the "not there yet" error used when a
 * resource another placement record creates (a slice's project, a network) does not exist yet.
 */
import { RetryableBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { DriverContext } from '../driver';
import { resourceName } from './names';
import type { OpenStackSession } from './session';

/** A JSON object as the OpenStack APIs return them. */
export type Json = Record<string, unknown>;

const q = encodeURIComponent;

/** Shared OpenStack calls over one session. */
export class OpenStackApi {
  private domain?: Promise<string>;
  private readonly roles = new Map<string, Promise<string>>();

  constructor(readonly session: OpenStackSession) {}

  /** The id of the controller's domain. */
  domainId(): Promise<string> {
    this.domain ??= (async () => {
      const ref = this.session.domainRef;
      if ('id' in ref) return ref.id;
      const reply = await this.session.call('identity', 'GET', `/domains?name=${q(ref.name)}`, {
        action: `find Keystone domain ${ref.name}`,
      });
      const found = ((reply.body as Json).domains as Json[] | undefined)?.[0];
      if (!found) throw new RetryableBackendError(`openstack: Keystone domain ${ref.name} does not exist`);
      return String(found.id);
    })().catch((err) => {
      this.domain = undefined;
      throw err;
    });
    return this.domain;
  }

  /** The id of a Keystone role by name. */
  roleId(name: string): Promise<string> {
    let id = this.roles.get(name);
    if (!id) {
      id = (async () => {
        const reply = await this.session.call('identity', 'GET', `/roles?name=${q(name)}`, {
          action: `find Keystone role ${name}`,
        });
        const role = ((reply.body as Json).roles as Json[] | undefined)?.[0];
        if (!role) throw new RetryableBackendError(`openstack: Keystone role ${name} does not exist`);
        return String(role.id);
      })().catch((err) => {
        this.roles.delete(name);
        throw err;
      });
      this.roles.set(name, id);
    }
    return id;
  }

  /** A Keystone project by name in the controller's domain. */
  async findProject(name: string): Promise<Json | undefined> {
    const domain = await this.domainId();
    const reply = await this.session.call('identity', 'GET', `/projects?name=${q(name)}&domain_id=${q(domain)}`, {
      action: `find Keystone project ${name}`,
    });
    return ((reply.body as Json).projects as Json[] | undefined)?.[0];
  }

  /** A Keystone user by name in the controller's domain. */
  async findUser(name: string): Promise<Json | undefined> {
    const domain = await this.domainId();
    const reply = await this.session.call('identity', 'GET', `/users?name=${q(name)}&domain_id=${q(domain)}`, {
      action: `find Keystone user ${name}`,
    });
    return ((reply.body as Json).users as Json[] | undefined)?.[0];
  }

  /**
   * Find a Keystone project or user by name and make it carry `attrs`: create it (with
   * `createOnly`, e.g. a password) when absent, PATCH it when an attribute differs.
   */
  async ensureNamed(kind: 'project' | 'user', name: string, attrs: Json, createOnly: Json = {}): Promise<Json> {
    const found = kind === 'project' ? await this.findProject(name) : await this.findUser(name);
    if (!found) {
      const created = await this.session.call('identity', 'POST', `/${kind}s`, {
        body: { [kind]: { name, domain_id: await this.domainId(), ...attrs, ...createOnly } },
        action: `create Keystone ${kind} ${name}`,
      });
      return (created.body as Json)[kind] as Json;
    }
    if (!carries(found, attrs)) {
      await this.session.call('identity', 'PATCH', `/${kind}s/${String(found.id)}`, {
        body: { [kind]: attrs },
        action: `update Keystone ${kind} ${name}`,
      });
    }
    return found;
  }

  /** The project of a slice, which its ControllerSlice creates; retryable while it is not there yet. */
  async sliceProject(sliceId: string): Promise<Json> {
    const name = resourceName('slice', sliceId);
    const project = await this.findProject(name);
    if (!project) throw new RetryableBackendError(`openstack: project ${name} of Slice ${sliceId} does not exist yet`);
    return project;
  }

  /** Neutron resources of a collection filtered by query (`name=...`). */
  async neutronList(collection: string, query: string, action: string): Promise<Json[]> {
    const reply = await this.session.call('network', 'GET', `/${collection}?${query}`, { action });
    return ((reply.body as Json)[collection] as Json[] | undefined) ?? [];
  }

  /** The Neutron network of an XOS network (with its subnets), which its ControllerNetwork creates. */
  async findNetwork(networkId: string): Promise<Json | undefined> {
    const name = resourceName('net', networkId);
    return (await this.neutronList('networks', `name=${q(name)}`, `find Neutron network ${name}`))[0];
  }

  /** Servers named exactly `name`, in any project (Nova's name filter is a regex). */
  async findServers(name: string): Promise<Json[]> {
    const reply = await this.session.call('compute', 'GET', `/servers/detail?all_tenants=1&name=${q(`^${name}$`)}`, {
      action: `find Nova server ${name}`,
    });
    return ((reply.body as Json).servers as Json[] | undefined) ?? [];
  }

  /** Grant (PUT, idempotent) a role to a user on a project. */
  async grant(projectId: string, userId: string, role: string): Promise<string> {
    const roleId = await this.roleId(role);
    await this.session.call('identity', 'PUT', `/projects/${projectId}/users/${userId}/roles/${roleId}`, {
      action: `grant role ${role} to user ${userId} on project ${projectId}`,
    });
    return roleId;
  }

  /**
   * Make sure the session's own user may scope a token to `projectId` (the slice's project: its
   * ControllerSlice grants this too, but an instance or port may get there first), and return it.
   */
  async scopable(projectId: string): Promise<string> {
    await this.grant(projectId, (await this.session.token()).userId, 'admin');
    return projectId;
  }

  /** Whether a user holds a role on a project (HEAD: 204 or 404). */
  async granted(projectId: string, userId: string, role: string): Promise<boolean> {
    const roleId = await this.roleId(role);
    const reply = await this.session.call(
      'identity',
      'HEAD',
      `/projects/${projectId}/users/${userId}/roles/${roleId}`,
      {
        ok: [404],
        action: `check role ${role} of user ${userId} on project ${projectId}`,
      },
    );
    return reply.status !== 404;
  }
}

/** Whether a back-end resource carries every attribute (absent attributes count as undefined). */
export function carries(resource: Json, attrs: Json): boolean {
  return Object.entries(attrs).every(([k, v]) => resource[k] === v);
}

/** An object the driver call needs: from the loaded relatives, else read through the lookup. */
export async function relative(ctx: DriverContext, kind: string, id: unknown): Promise<StoredObject | undefined> {
  if (typeof id !== 'string') return undefined;
  return ctx.related.get(id) ?? (await ctx.lookup.get(kind, id));
}

/** Like `relative`, but the object must exist (a dangling reference is a model error). */
export async function requireRelative(ctx: DriverContext, kind: string, id: unknown): Promise<StoredObject> {
  const found = await relative(ctx, kind, id);
  if (!found) throw new RetryableBackendError(`openstack: ${kind} ${String(id)} not found in the model`);
  return found;
}
