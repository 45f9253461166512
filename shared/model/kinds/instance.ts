import type { FieldErrors } from '../../errors';
import { defineModel } from '../define';
import { choice, int, ref, str, text } from '../fields';

/** A VM or container of a slice (XOS Instance). */
export const Instance = defineModel({
  kind: 'Instance',
  plural: 'instances',
  description: 'An instance (VM or container) of a slice.',
  fields: {
    name: str('Name of the instance; defaults to the slice name.', { max: 200 }),
    instance_id: str('Back-end server id.', { feedback: true }),
    instance_uuid: str('Back-end server UUID.', { feedback: true }),
    instance_name: str('Back-end server name.', { feedback: true }),
    ip: str('Management IP address.', { feedback: true, format: 'ip', max: 45 }),
    numberCores: int('Number of cores for a container.', { default: 0, min: 0, max: 1024 }),
    userData: text('Cloud-init user data.'),
    isolation: choice(['vm', 'container', 'container_vm'], 'Isolation of the instance.', { default: 'vm' }),
    volumes: text('Comma-separated volumes to mount (containers).'),
    image_id: ref('Image', 'Image to boot.', { required: true, onDelete: 'protect', reverse: 'instances' }),
    creator_id: ref('User', 'The user who created the instance (defaults to the caller).', { reverse: 'instances' }),
    slice_id: ref('Slice', 'The slice this instance belongs to.', { required: true, reverse: 'instances' }),
    deployment_id: ref('Deployment', 'The deployment to place the instance in.', {
      required: true,
      onDelete: 'protect',
      reverse: 'instances',
    }),
    node_id: ref('Node', 'The node to place the instance on (scheduler chooses if null).', { reverse: 'instances' }),
    flavor_id: ref('Flavor', 'Flavor (size) of the instance.', {
      required: true,
      onDelete: 'protect',
      reverse: 'instances',
    }),
    parent_id: ref('Instance', 'Parent VM of a container_vm instance.', { onDelete: 'cascade', reverse: 'instance' }),
  },
  shards: 4,
  toscaKey: ['name'],
  validators: [
    {
      name: 'instance_isolation',
      check(obj, ctx): FieldErrors | undefined {
        const image = ctx.ref('image_id');
        const isolation = obj.isolation ?? 'vm';
        const hasParent = obj.parent_id !== undefined && obj.parent_id !== null;
        if (isolation === 'container_vm' && !hasParent) return { parent_id: 'required when isolation is container_vm' };
        if (isolation !== 'container_vm' && hasParent)
          return { parent_id: 'only allowed when isolation is container_vm' };
        if (image && isolation === 'vm' && image.image_kind !== 'vm')
          return { image_id: 'isolation vm needs an image with image_kind vm' };
        if (image && isolation !== 'vm' && image.image_kind !== 'container') {
          return { image_id: `isolation ${String(isolation)} needs an image with image_kind container` };
        }
        return undefined;
      },
    },
  ],
  deriveOnCreate(obj, ctx) {
    if (obj.name === undefined || obj.name === null) obj.name = ctx.ref('slice_id')?.name ?? null;
    if (obj.creator_id === undefined || obj.creator_id === null) obj.creator_id = ctx.caller.userId;
  },
  access: {
    read: [{ via: 'slice_id' }],
    write: [{ role: ['admin', 'access'], on: 'slice_id' }, { via: 'slice_id' }],
    adminFields: ['creator_id'],
  },
});
