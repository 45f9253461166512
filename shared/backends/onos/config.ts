/**
 * Configuration pushes (the original sync_onos_app.py / sync_onos_service.py): an attribute whose
 * name is an ONOS REST path is POSTed there with its JSON value (200; a 207 multi-status from
 * netcfg is a failure carrying ONOS's list of messages, as it was in XOS) and DELETEd on removal
 * (204). Observation reads the same path back: netcfg through GET at that depth (merge semantics),
 * component configuration through its properties' values; other paths (routes, port state) have no
 * readable state and are observed by the digest of what was last pushed.
 */
import { RetryableBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { ExternalClient, Handle, Observation } from '../driver';
import type { OnosClient } from './client';
import { componentHolds, configTarget, configValue, digestOf, netcfgHolds } from './mapping';

/** The ExternalClient for ServiceInstanceAttribute and ServiceAttribute. */
export function configClient(onos: OnosClient): ExternalClient {
  const desired = (obj: StoredObject) => {
    const target = configTarget(String(obj.name));
    const value = configValue(obj);
    return { target, value, handle: { path: target.path, digest: digestOf(target.path, value) } as Handle };
  };
  const bare = (path: string) => path.split('?')[0] as string;

  /** Whether the path exists and holds the value; undefined when the path cannot be read back. */
  const holds = async (obj: StoredObject): Promise<{ exists: boolean; held: boolean } | undefined> => {
    const { target, value } = desired(obj);
    if (target.kind === 'other') return undefined;
    const r = await onos.call('GET', bare(target.path), { ok: [200, 404], action: `read ${bare(target.path)}` });
    if (r.status === 404) return { exists: false, held: false };
    const held =
      target.kind === 'netcfg'
        ? netcfgHolds(value, r.body, target.subject.length)
        : componentHolds(value, r.body, target.component);
    return { exists: true, held };
  };

  const push = async (obj: StoredObject): Promise<Handle> => {
    const { target, value, handle } = desired(obj);
    await onos.call('POST', target.path, { body: value, ok: [200], action: `push configuration to ${target.path}` });
    // A netcfg config whose key no active app has registered is queued by ONOS, not applied.
    if ((await holds(obj))?.held === false)
      throw new RetryableBackendError(
        `onos: ${target.path} was accepted but is not in effect (queued until the app that registers it is active)`,
      );
    return handle;
  };

  return {
    async observe(obj): Promise<Observation> {
      const { handle } = desired(obj);
      const held = await holds(obj);
      if (held === undefined) {
        const pushed = (obj.backend_handle as Handle | null)?.digest;
        // Nothing to read back: trust what was last pushed (create and update are the same POST).
        return { exists: true, upToDate: pushed === handle.digest, settled: true, handle };
      }
      return { exists: held.exists, upToDate: held.held, settled: true, handle };
    },
    create: push,
    update: push,
    async delete(obj) {
      const target = configTarget(String(obj.name));
      // Component configuration is reset property by property: the body names them.
      const body = target.kind === 'component' ? safeValue(obj) : undefined;
      await onos.call('DELETE', bare(target.path), {
        body,
        ok: [200, 204, 404],
        action: `remove configuration at ${bare(target.path)}`,
      });
    },
  };
}

function safeValue(obj: StoredObject): unknown {
  try {
    return configValue(obj);
  } catch {
    return undefined;
  }
}
