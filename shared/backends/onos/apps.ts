/**
 * ONOS applications (the original sync_onos_app.py): a ServiceInstance with `onos_app`.
 * Bundled app (no url): POST /applications/{id}/active (200), then GET for its version; removal
 * deactivates (DELETE .../active, 204). Remote app (url + version): GET /applications/{id}; the
 * same version and ACTIVE is done; another version is uninstalled (DELETE, 204) and reinstalled;
 * install is POST /applications {"url","activate":true} (200, or 409 = already installed,
 * CORD-2062), then GET to verify the version. Removal uninstalls (DELETE /applications/{id}, 204).
 * Dependencies must be ACTIVE in ONOS first (the original deferred until they were enacted).
 */
import { RetryableBackendError, TerminalBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { ExternalClient, Handle, Observation } from '../driver';
import type { OnosClient } from './client';
import { type AppSpec, appSpecOf } from './mapping';

interface OnosApp {
  readonly name: string;
  readonly version: string;
  readonly state: string;
}

const appPath = (id: string) => `/onos/v1/applications/${encodeURIComponent(id)}`;

/** The ExternalClient for ONOS applications. */
export function appClient(onos: OnosClient): ExternalClient {
  const get = async (id: string): Promise<OnosApp | undefined> => {
    const r = await onos.call('GET', appPath(id), { ok: [200, 404], action: `get ONOS app ${id}` });
    return r.status === 200 ? (r.body as OnosApp) : undefined;
  };
  const spec = (obj: StoredObject): AppSpec => {
    const s = appSpecOf(obj);
    if (!s) throw new TerminalBackendError(`ServiceInstance ${obj.id} is not an ONOS app`);
    return s;
  };
  const handleOf = (app: OnosApp): Handle => ({ app_id: app.name, version: app.version, state: app.state });
  const awaitDependencies = async (s: AppSpec) => {
    for (const dep of s.dependencies) {
      const app = await get(dep);
      if (app?.state !== 'ACTIVE')
        throw new RetryableBackendError(
          `onos: app ${s.app_id} waits for app ${dep} to be active (it is ${app?.state ?? 'not installed'})`,
        );
    }
  };
  const apply = async (obj: StoredObject): Promise<Handle> => {
    const s = spec(obj);
    await awaitDependencies(s);
    if (!s.url) {
      await onos.call('POST', `${appPath(s.app_id)}/active`, { ok: [200], action: `activate ONOS app ${s.app_id}` });
      const app = await get(s.app_id);
      if (!app) throw new RetryableBackendError(`onos: app ${s.app_id} vanished after activation`);
      return handleOf(app);
    }
    let app = await get(s.app_id);
    if (app && app.version !== s.version) {
      await onos.call('DELETE', appPath(s.app_id), {
        ok: [204],
        action: `uninstall ONOS app ${s.app_id} ${app.version}`,
      });
      app = undefined;
    }
    if (!app) {
      await onos.call('POST', '/onos/v1/applications', {
        body: { url: s.url, activate: true },
        ok: [200, 409],
        action: `install ONOS app ${s.app_id} from ${s.url}`,
      });
    } else if (app.state !== 'ACTIVE') {
      await onos.call('POST', `${appPath(s.app_id)}/active`, { ok: [200], action: `activate ONOS app ${s.app_id}` });
    }
    app = await get(s.app_id);
    if (!app)
      throw new TerminalBackendError(
        `onos: installing ${s.url} did not give app ${s.app_id} (check app_id against the .oar)`,
      );
    if (app.version !== s.version)
      throw new TerminalBackendError(
        `onos: app ${s.app_id} is version ${app.version} after installing ${s.url}, wanted ${s.version}`,
      );
    return handleOf(app);
  };
  return {
    async observe(obj): Promise<Observation> {
      const s = spec(obj);
      const app = await get(s.app_id);
      if (!app) return { exists: false, upToDate: false, settled: false };
      const upToDate = app.state === 'ACTIVE' && (s.version === undefined || app.version === s.version);
      return { exists: true, upToDate, settled: true, handle: handleOf(app) };
    },
    create: apply,
    update: apply,
    async delete(obj) {
      const s = appSpecOf(obj) ?? { app_id: String((obj.backend_handle as Handle | null)?.app_id ?? '') };
      if (!s.app_id) return;
      if ('url' in s && s.url)
        await onos.call('DELETE', appPath(s.app_id), { ok: [204], action: `uninstall ONOS app ${s.app_id}` });
      else
        await onos.call('DELETE', `${appPath(s.app_id)}/active`, {
          ok: [204],
          action: `deactivate ONOS app ${s.app_id}`,
        });
    },
  };
}
