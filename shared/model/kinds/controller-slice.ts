import { ADMINS_ONLY, defineModel } from '../define';
import { ref, str } from '../fields';

/** Placement of a slice on a controller (project + quota, or VPC); created by the Slice policy. */
export const ControllerSlice = defineModel({
  kind: 'ControllerSlice',
  plural: 'controllerslices',
  description: 'Placement of a slice on a controller (an OpenStack project or an EC2 VPC); created by model policies.',
  fields: {
    controller_id: ref('Controller', 'The controller.', { required: true, reverse: 'controllerslices' }),
    slice_id: ref('Slice', 'The slice.', { required: true, reverse: 'controllerslices' }),
    tenant_id: str('Back-end project or VPC id.', { feedback: true, max: 200 }),
  },
  shards: 2,
  uniqueTogether: [{ fields: ['controller_id', 'slice_id'] }],
  toscaKey: ['controller_id', 'slice_id'],
  places: 'slice_id',
  access: { read: [{ via: 'slice_id' }], write: ADMINS_ONLY },
});
