import { defineModel } from '../define';
import { ref } from '../fields';

/** Attaches a slice to a network (XOS NetworkSlice). */
export const NetworkSlice = defineModel({
  kind: 'NetworkSlice',
  plural: 'networkslices',
  description: 'Attaches a slice to a network.',
  fields: {
    network_id: ref('Network', 'The network.', { required: true, reverse: 'networkslices' }),
    slice_id: ref('Slice', 'The slice.', { required: true, reverse: 'networkslices' }),
  },
  uniqueTogether: [{ fields: ['network_id', 'slice_id'] }],
  toscaKey: ['network_id', 'slice_id'],
  validators: [
    {
      name: 'network_slice_validator',
      check(obj, ctx) {
        const network = ctx.ref('network_id');
        if (!network) return undefined;
        const permitted = Array.isArray(network.permitted_slices_ids) ? network.permitted_slices_ids : [];
        if (
          network.permit_all_slices === true ||
          network.owner_id === obj.slice_id ||
          permitted.includes(obj.slice_id)
        ) {
          return undefined;
        }
        return { slice_id: 'slice is not permitted on this network (not the owner, not in permitted_slices)' };
      },
    },
  ],
  access: { read: [{ via: 'slice_id' }], write: [{ role: ['admin', 'access'], on: 'slice_id' }, { via: 'slice_id' }] },
});
