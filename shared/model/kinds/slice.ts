import { defineModel } from '../define';
import { bool, choice, int, ref, str, text } from '../fields';

/** A slice: a set of VMs and virtual networks owned by a site (XOS Slice). */
export const Slice = defineModel({
  kind: 'Slice',
  plural: 'slices',
  description: 'A slice: a set of instances and networks owned by a site.',
  fields: {
    name: str('Name of the slice (no spaces).', { required: true, unique: true, max: 80 }),
    enabled: bool('Whether the slice is enabled.', true),
    description: text('High-level description of the slice.'),
    slice_url: str('URL describing the slice.', { max: 512, format: 'url' }),
    max_instances: int('Maximum number of instances (becomes the back-end quota).', {
      default: 10,
      min: 0,
      max: 10_000,
    }),
    network: choice(['host', 'bridged', 'noauto'], 'How instances are connected (null: automatic).'),
    exposed_ports: str('Ports to expose, e.g. "tcp 22, udp 53".', { max: 256 }),
    mount_data_sets: str('Data sets to mount.', { max: 256, default: 'GenBank' }),
    default_isolation: choice(['vm', 'container', 'container_vm'], 'Default isolation of instances.', {
      default: 'vm',
    }),
    controller_replica_count: int('Replicas of the slice controller.', { default: 0, min: 0, max: 1000 }),
    controller_kind: str('Kind of slice controller.', { max: 256 }),
    site_id: ref('Site', 'The site that owns this slice.', { required: true, reverse: 'slices' }),
    service_id: ref('Service', 'The service this slice implements.', { reverse: 'slices' }),
    creator_id: ref('User', 'The user who created the slice (defaults to the caller).', { reverse: 'slices' }),
    default_flavor_id: ref('Flavor', 'Default flavor of instances.', { reverse: 'slices' }),
    default_image_id: ref('Image', 'Default image of instances.', { reverse: 'slices' }),
    default_node_id: ref('Node', 'Default node of instances.', { reverse: 'slices' }),
  },
  validators: [
    {
      name: 'slice_name_no_spaces',
      check: (obj) =>
        typeof obj.name === 'string' && /\s/.test(obj.name) ? { name: 'must not contain spaces' } : undefined,
    },
  ],
  deriveOnCreate(obj, ctx) {
    if (obj.creator_id === undefined || obj.creator_id === null) obj.creator_id = ctx.caller.userId;
  },
  access: {
    read: [
      { self: 'creator_id' },
      { role: ['admin', 'access'], on: 'id' },
      { role: ['admin', 'pi', 'tech'], on: 'site_id' },
    ],
    write: [{ self: 'creator_id' }, { role: ['admin'], on: 'id' }, { role: ['admin', 'pi'], on: 'site_id' }],
    create: [{ role: ['admin', 'pi'], on: 'site_id' }],
    delete: [
      { role: ['admin'], on: 'id' },
      { role: ['admin', 'pi'], on: 'site_id' },
    ],
    adminFields: ['creator_id'],
  },
});
