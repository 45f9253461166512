/**
 * Keystone (and Nova quota) clients: ControllerSite and ControllerSlice -> projects (a slice's
 * project carries the Nova instance quota from max_instances, and the controller's admin user
 * holds `admin` on it so servers can be booted in it), ControllerUser -> users, and
 * ControllerSitePrivilege / ControllerSlicePrivilege -> role assignments.
 */
import { randomBytes } from 'node:crypto';
import { RetryableBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { DriverContext, ExternalClient, Handle, Observation } from '../driver';
import { carries, type Json, type OpenStackApi, relative, requireRelative } from './api';
import { resourceName, roleOf } from './names';

const ABSENT: Observation = { exists: false, upToDate: false, settled: false };

/** What a site's or slice's project should look like. */
interface ProjectWish {
  readonly name: string;
  readonly description: string;
  readonly enabled: boolean;
  /** Nova instance quota (slices only). */
  readonly instances?: number;
}

async function projectWish(which: 'site' | 'slice', obj: StoredObject, ctx: DriverContext): Promise<ProjectWish> {
  const parentId = which === 'site' ? obj.site_id : obj.slice_id;
  const parent = await requireRelative(ctx, which === 'site' ? 'Site' : 'Slice', parentId);
  return {
    name: resourceName(which, parent.id),
    description: `XOS ${which} ${String(parent.name)}`,
    enabled: parent.enabled !== false,
    instances: which === 'slice' ? Number(parent.max_instances ?? 10) : undefined,
  };
}

/** ControllerSite / ControllerSlice -> Keystone project (+ quota and the admin's role for slices). */
export function projectClient(api: OpenStackApi, which: 'site' | 'slice'): ExternalClient {
  const quota = async (projectId: string): Promise<number | undefined> => {
    const reply = await api.session.call('compute', 'GET', `/os-quota-sets/${projectId}`, {
      action: `read the Nova quota of project ${projectId}`,
    });
    const value = ((reply.body as Json).quota_set as Json | undefined)?.instances;
    return typeof value === 'number' ? value : undefined;
  };
  const adminHolds = async (projectId: string) => api.granted(projectId, (await api.session.token()).userId, 'admin');

  const ensure = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    const wish = await projectWish(which, obj, ctx);
    const project = await api.ensureNamed('project', wish.name, {
      description: wish.description,
      enabled: wish.enabled,
    });
    const id = String(project.id);
    if (wish.instances !== undefined) {
      // The admin boots the slice's servers inside its project (a project-scoped token).
      await api.grant(id, (await api.session.token()).userId, 'admin');
      if ((await quota(id)) !== wish.instances) {
        await api.session.call('compute', 'PUT', `/os-quota-sets/${id}`, {
          body: { quota_set: { instances: wish.instances } },
          action: `set the Nova instance quota of project ${wish.name}`,
        });
      }
    }
    return { project_id: id, name: wish.name };
  };

  return {
    async observe(obj, ctx) {
      const wish = await projectWish(which, obj, ctx);
      const project = await api.findProject(wish.name);
      if (!project) return ABSENT;
      const id = String(project.id);
      let upToDate = carries(project, { description: wish.description, enabled: wish.enabled });
      if (upToDate && wish.instances !== undefined)
        upToDate = (await quota(id)) === wish.instances && (await adminHolds(id));
      return {
        exists: true,
        upToDate,
        settled: true,
        handle: { project_id: id, name: wish.name },
        feedback: { tenant_id: id },
      };
    },
    create: ensure,
    update: ensure,
    async delete(obj) {
      const parentId = which === 'site' ? obj.site_id : obj.slice_id;
      const name = resourceName(which, String(parentId));
      const project = await api.findProject(name);
      if (!project) return;
      const id = String(project.id);
      if (which === 'slice') {
        // Reverse order in the back-end too: the slice's servers and networks go first.
        const servers = await api.session.call('compute', 'GET', `/servers?all_tenants=1&project_id=${id}`, {
          action: `list the servers of project ${name}`,
        });
        const left = ((servers.body as Json).servers as Json[] | undefined) ?? [];
        if (left.length > 0)
          throw new RetryableBackendError(`openstack: project ${name} still holds ${left.length} server(s)`);
        const nets = await api.neutronList('networks', `project_id=${id}`, `list the networks of project ${name}`);
        if (nets.length > 0)
          throw new RetryableBackendError(`openstack: project ${name} still holds ${nets.length} network(s)`);
        // Neutron made a `default` security group on the project's first port: remove it too.
        for (const sg of await api.neutronList(
          'security-groups',
          `project_id=${id}`,
          `list security groups of ${name}`,
        ))
          await api.session.call('network', 'DELETE', `/security-groups/${String(sg.id)}`, {
            ok: [404],
            action: `delete security group ${String(sg.id)} of project ${name}`,
          });
      }
      await api.session.call('identity', 'DELETE', `/projects/${id}`, {
        ok: [404],
        action: `delete Keystone project ${name}`,
      });
    },
  };
}

/** What a user should look like in Keystone. */
function userWish(user: StoredObject) {
  return {
    name: resourceName('user', user.id),
    email: typeof user.email === 'string' ? user.email : undefined,
    enabled: user.is_active !== false,
  };
}

/** ControllerUser -> Keystone user (a random password: XOS keeps only a hash of its own). */
export function userClient(api: OpenStackApi): ExternalClient {
  const ensure = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    const { name, ...attrs } = userWish(await requireRelative(ctx, 'User', obj.user_id));
    const user = await api.ensureNamed('user', name, attrs, { password: randomBytes(18).toString('base64url') });
    return { user_id: String(user.id), name };
  };
  return {
    async observe(obj, ctx) {
      const { name, ...attrs } = userWish(await requireRelative(ctx, 'User', obj.user_id));
      const user = await api.findUser(name);
      if (!user) return ABSENT;
      return {
        exists: true,
        upToDate: carries(user, attrs),
        settled: true,
        handle: { user_id: String(user.id), name },
        feedback: { kuser_id: String(user.id) },
      };
    },
    create: ensure,
    update: ensure,
    async delete(obj) {
      const name = resourceName('user', String(obj.user_id));
      const user = await api.findUser(name);
      if (!user) return;
      await api.session.call('identity', 'DELETE', `/users/${String(user.id)}`, {
        ok: [404],
        action: `delete Keystone user ${name}`,
      });
    },
  };
}

/** Where a privilege's grant lives: the user, the project and the role. */
interface GrantTarget {
  readonly user?: Json;
  readonly project?: Json;
  readonly userName: string;
  readonly projectName: string;
  readonly role: 'admin' | 'member' | 'reader';
}

/** ControllerSitePrivilege / ControllerSlicePrivilege -> a Keystone role assignment on the project. */
export function grantClient(api: OpenStackApi, which: 'site' | 'slice'): ExternalClient {
  const field = which === 'site' ? 'site_privilege_id' : 'slice_privilege_id';
  const target = async (obj: StoredObject, ctx: DriverContext): Promise<GrantTarget | undefined> => {
    const privilege = await relative(ctx, 'Privilege', obj[field]);
    if (!privilege) return undefined;
    const userName = resourceName('user', String(privilege.accessor_id));
    const projectName = resourceName(which, String(privilege.object_id));
    const [user, project] = await Promise.all([api.findUser(userName), api.findProject(projectName)]);
    return { user, project, userName, projectName, role: roleOf(privilege.permission) };
  };
  const ensure = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    const t = await target(obj, ctx);
    if (!t) throw new RetryableBackendError(`openstack: privilege of ${obj.kind} ${obj.id} not found in the model`);
    if (!t.user) throw new RetryableBackendError(`openstack: Keystone user ${t.userName} does not exist yet`);
    if (!t.project) throw new RetryableBackendError(`openstack: Keystone project ${t.projectName} does not exist yet`);
    const roleId = await api.grant(String(t.project.id), String(t.user.id), t.role);
    return { project_id: String(t.project.id), user_id: String(t.user.id), role_id: roleId, role: t.role };
  };
  return {
    async observe(obj, ctx) {
      const t = await target(obj, ctx);
      if (!t?.user || !t.project) return ABSENT;
      const projectId = String(t.project.id);
      const userId = String(t.user.id);
      if (!(await api.granted(projectId, userId, t.role))) return ABSENT;
      const roleId = await api.roleId(t.role);
      return {
        exists: true,
        upToDate: true,
        settled: true,
        handle: { project_id: projectId, user_id: userId, role_id: roleId, role: t.role },
        feedback: { role_id: roleId },
      };
    },
    create: ensure,
    update: ensure,
    async delete(obj, ctx) {
      const handle = (obj.backend_handle ?? {}) as Json;
      const t = await target(obj, ctx);
      const projectId = t?.project ? String(t.project.id) : (handle.project_id as string | undefined);
      const userId = t?.user ? String(t.user.id) : (handle.user_id as string | undefined);
      const roleId = typeof handle.role_id === 'string' ? handle.role_id : t ? await api.roleId(t.role) : undefined;
      if (!projectId || !userId || !roleId) return;
      await api.session.call('identity', 'DELETE', `/projects/${projectId}/users/${userId}/roles/${roleId}`, {
        ok: [404],
        action: `revoke role ${roleId} of user ${userId} on project ${projectId}`,
      });
    },
  };
}
