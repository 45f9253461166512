import { defineModel } from '../define';
import { bool, ref, refs, str } from '../fields';

/** A virtual network owned by a slice (XOS Network). */
export const Network = defineModel({
  kind: 'Network',
  plural: 'networks',
  description: 'A virtual network owned by a slice.',
  fields: {
    name: str('Name of the network.', { required: true, unique: true, max: 32 }),
    subnet: str('Subnet (CIDR); chosen by the back-end if null.', { format: 'cidr', max: 49 }),
    start_ip: str('First address of the allocation pool.', { format: 'ip', max: 45 }),
    end_ip: str('Last address of the allocation pool.', { format: 'ip', max: 45 }),
    ports: str('Ports to open, e.g. "tcp 80".', { max: 1024 }),
    labels: str('Labels.', { max: 1024 }),
    permit_all_slices: bool('Whether every slice may attach to this network.', false),
    autoconnect: bool('Whether instances of the owner slice connect automatically.', true),
    template_id: ref('NetworkTemplate', 'The template this network instantiates.', {
      required: true,
      onDelete: 'protect',
      reverse: 'network',
    }),
    owner_id: ref('Slice', 'The slice that owns this network.', { required: true, reverse: 'ownedNetworks' }),
    permitted_slices_ids: refs('Slice', 'Slices allowed to attach to this network.'),
  },
  access: { read: [{ via: 'owner_id' }], write: [{ role: ['admin'], on: 'owner_id' }, { via: 'owner_id' }] },
});
