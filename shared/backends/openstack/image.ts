/**
 * Glance client: ControllerImage -> image. The image record is created, then its data uploaded:
 * from the image's `path` when it is an http(s) URL (as XOS downloaded it), else a small
 * placeholder, which is what a test cloud with a fake hypervisor needs to go `active`.
 */
import { TerminalBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { DriverContext, ExternalClient, Handle, Observation } from '../driver';
import { type Json, type OpenStackApi, requireRelative } from './api';
import { resourceName } from './names';

const ABSENT: Observation = { exists: false, upToDate: false, settled: false };
/** Bytes uploaded for an image without a downloadable path. */
export const PLACEHOLDER_IMAGE_BYTES = 65_536;

/** ControllerImage -> Glance image. */
export function imageClient(api: OpenStackApi): ExternalClient {
  const find = async (imageId: string): Promise<Json | undefined> => {
    const name = resourceName('image', imageId);
    const reply = await api.session.call('image', 'GET', `/images?name=${encodeURIComponent(name)}`, {
      action: `find Glance image ${name}`,
    });
    return ((reply.body as Json).images as Json[] | undefined)?.[0];
  };

  const content = async (image: StoredObject): Promise<Uint8Array> => {
    const path = typeof image.path === 'string' ? image.path : '';
    if (!/^https?:\/\//.test(path)) return new Uint8Array(PLACEHOLDER_IMAGE_BYTES);
    const reply = await fetch(path, { signal: AbortSignal.timeout(10 * 60_000) }).catch(() => undefined);
    if (!reply?.ok) throw new TerminalBackendError(`openstack: cannot download image ${path}`);
    return new Uint8Array(await reply.arrayBuffer());
  };

  const ensure = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    const image = await requireRelative(ctx, 'Image', obj.image_id);
    const name = resourceName('image', image.id);
    let found = await find(image.id);
    if (!found) {
      const reply = await api.session.call('image', 'POST', '/images', {
        body: {
          name,
          disk_format: String(image.disk_format ?? 'raw'),
          container_format: String(image.container_format ?? 'bare'),
          visibility: 'public',
          xos_name: String(image.name),
        },
        action: `create Glance image ${name}`,
      });
      found = reply.body as Json;
    }
    if (found.status === 'queued') {
      await api.session.call('image', 'PUT', `/images/${String(found.id)}/file`, {
        bytes: await content(image),
        timeoutMs: 10 * 60_000,
        action: `upload the data of Glance image ${name}`,
      });
    }
    return { image_id: String(found.id) };
  };

  return {
    async observe(obj) {
      const found = await find(String(obj.image_id));
      if (!found) return ABSENT;
      const status = String(found.status);
      if (status === 'killed' || status === 'deactivated' || status === 'deleted')
        return { exists: true, upToDate: true, settled: true, failure: `openstack: Glance image is ${status}` };
      return {
        exists: true,
        upToDate: status !== 'queued',
        settled: status === 'active',
        handle: { image_id: String(found.id) },
        feedback: { glance_image_id: String(found.id) },
      };
    },
    create: ensure,
    update: ensure,
    async delete(obj) {
      const found = await find(String(obj.image_id));
      if (!found) return;
      await api.session.call('image', 'DELETE', `/images/${String(found.id)}`, {
        ok: [404],
        action: `delete Glance image ${String(found.name)}`,
      });
    },
  };
}
