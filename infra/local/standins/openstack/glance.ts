/**
 * Glance v2 subset of the stand-in: images are `queued` until their data is uploaded (PUT file
 * 204), then `active`; lists filter by name, status and visibility; errors in Glance's shape.
 */
import { createHash } from 'node:crypto';
import { type CloudState, filterBy, glanceError, type Json, type Reply, type Req, stamp, uuid } from './state';

/** Handle a Glance request (path below `/v2`); `raw` is the request body for uploads. */
export function glance(cloud: CloudState, req: Req, raw: Buffer): Reply {
  const [a, b, c] = req.parts;
  const m = req.method;
  if (a !== 'images') return glanceError(404, 'The resource could not be found.');
  if (!b) {
    if (m === 'GET')
      return {
        status: 200,
        body: {
          images: filterBy(cloud.images.values(), req.query, ['name', 'status', 'visibility', 'id']),
          first: '/v2/images',
          schema: '/v2/schemas/images',
        },
      };
    if (m !== 'POST') return glanceError(405, 'Method not allowed');
    const body = req.body;
    const id = String(body.id ?? uuid());
    const { name, disk_format, container_format, visibility, ...extra } = body;
    const image: Json = {
      ...extra,
      name: name ?? null,
      disk_format: disk_format ?? null,
      container_format: container_format ?? null,
      visibility: visibility ?? 'shared',
      size: null,
      virtual_size: null,
      status: 'queued',
      checksum: null,
      protected: false,
      min_ram: 0,
      min_disk: 0,
      owner: req.auth?.projectId,
      os_hidden: false,
      os_hash_algo: null,
      os_hash_value: null,
      id,
      created_at: stamp(),
      updated_at: stamp(),
      tags: [],
      self: `/v2/images/${id}`,
      file: `/v2/images/${id}/file`,
      schema: '/v2/schemas/image',
    };
    cloud.images.set(id, image);
    return { status: 201, body: image };
  }
  const image = cloud.images.get(b);
  if (!image) {
    return glanceError(404, m === 'DELETE' ? `Failed to find image ${b} to delete` : `No image found with ID ${b}`);
  }
  if (c === 'file' && m === 'PUT') {
    image.size = raw.length;
    image.virtual_size = raw.length;
    image.checksum = createHash('md5').update(raw).digest('hex');
    image.os_hash_algo = 'sha512';
    image.os_hash_value = createHash('sha512').update(raw).digest('hex');
    image.status = 'active';
    image.stores = 'fs';
    image.updated_at = stamp();
    return { status: 204 };
  }
  if (!c && m === 'GET') return { status: 200, body: image };
  if (!c && m === 'DELETE') {
    cloud.images.delete(b);
    return { status: 204 };
  }
  return glanceError(404, 'The resource could not be found.');
}
