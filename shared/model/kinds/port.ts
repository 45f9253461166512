import { defineModel } from '../define';
import { bool, ref, str } from '../fields';

/** A network port of an instance or a service instance (XOS Port). */
export const Port = defineModel({
  kind: 'Port',
  plural: 'ports',
  description: 'A port on a network, attached to an instance or a service instance.',
  fields: {
    ip: str('IP address of the port.', { format: 'ip', max: 45 }),
    port_id: str('Back-end port id.', { feedback: true, max: 256 }),
    mac: str('MAC address of the port.', { format: 'mac', max: 17 }),
    xos_created: bool('Created by XOS (not discovered).', false),
    network_id: ref('Network', 'The network.', { required: true, reverse: 'links' }),
    instance_id: ref('Instance', 'The instance this port belongs to.', { onDelete: 'cascade', reverse: 'ports' }),
    service_instance_id: ref('ServiceInstance', 'The service instance this port belongs to.', {
      onDelete: 'cascade',
      reverse: 'ports',
    }),
  },
  shards: 4,
  uniqueTogether: [{ fields: ['network_id', 'instance_id'] }, { fields: ['network_id', 'service_instance_id'] }],
  toscaKey: ['network_id', 'instance_id'],
  validators: [
    {
      name: 'port_one_owner',
      check(obj) {
        if (obj.instance_id && obj.service_instance_id) {
          return { service_instance_id: 'a port belongs to an instance or a service instance, not both' };
        }
        return undefined;
      },
    },
    {
      name: 'port_slice_permitted',
      check(_obj, ctx) {
        const instance = ctx.ref('instance_id');
        const network = ctx.ref('network_id');
        if (!instance || !network || network.permit_all_slices === true) return undefined;
        const permitted = Array.isArray(network.permitted_slices_ids) ? network.permitted_slices_ids : [];
        if (network.owner_id === instance.slice_id || permitted.includes(instance.slice_id)) return undefined;
        return { network_id: "the instance's slice is not permitted on this network" };
      },
    },
  ],
  access: { read: [{ via: 'instance_id' }, { via: 'network_id' }], write: [{ via: 'instance_id' }] },
});
