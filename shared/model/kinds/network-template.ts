import { ADMINS_ONLY, ANYONE, defineModel } from '../define';
import { choice, str, text } from '../fields';

/** A network template: visibility, translation and which controller manages it (XOS NetworkTemplate). */
export const NetworkTemplate = defineModel({
  kind: 'NetworkTemplate',
  plural: 'networktemplates',
  description: 'A template for networks: visibility, translation, topology and managing controller.',
  fields: {
    name: str('Name of the template.', { required: true, unique: true }),
    description: text('What the template is for.'),
    visibility: choice(['public', 'private'], 'Whether networks are reachable from outside.', { default: 'private' }),
    translation: choice(['none', 'NAT'], 'Address translation.', { default: 'none' }),
    access: choice(['indirect', 'direct'], 'How instances reach the network (null: none).'),
    shared_network_name: str('Name of an existing back-end network to share.', { max: 30 }),
    shared_network_id: str('Id of an existing back-end network to share.', { max: 256 }),
    topology_kind: choice(['bigswitch', 'physical', 'custom'], 'Topology.', { default: 'bigswitch' }),
    controller_kind: choice(['onos', 'custom'], 'Network controller managing these networks (null: none).'),
    vtn_kind: choice(
      ['PRIVATE', 'PUBLIC', 'MANAGEMENT_LOCAL', 'MANAGEMENT_HOST', 'VSG', 'ACCESS_AGENT', 'FLAT'],
      'VTN network type.',
      { default: 'PRIVATE' },
    ),
  },
  access: { read: ANYONE, write: ADMINS_ONLY },
});
