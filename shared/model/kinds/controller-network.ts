import { ADMINS_ONLY, defineModel } from '../define';
import { ref, str } from '../fields';

/** Placement of a network on a controller (network + subnet + router); lazy until needed. */
export const ControllerNetwork = defineModel({
  kind: 'ControllerNetwork',
  plural: 'controllernetworks',
  description: 'Placement of a network on a controller (network, subnet, router); lazy until an instance needs it.',
  fields: {
    network_id: ref('Network', 'The network.', { required: true, reverse: 'controllernetworks' }),
    controller_id: ref('Controller', 'The controller.', { required: true, reverse: 'controllernetworks' }),
    subnet: str('Subnet (CIDR) in the back-end.', { feedback: true, max: 49 }),
    start_ip: str('First allocatable address.', { feedback: true, max: 45 }),
    stop_ip: str('Last allocatable address.', { feedback: true, max: 45 }),
    net_id: str('Back-end network id.', { feedback: true, max: 256 }),
    router_id: str('Back-end router id.', { feedback: true, max: 256 }),
    subnet_id: str('Back-end subnet id.', { feedback: true, max: 256 }),
    gateway: str('Gateway address.', { feedback: true, max: 45 }),
    segmentation_id: str('Segmentation (VLAN/VNI) id.', { feedback: true, max: 32 }),
  },
  shards: 2,
  uniqueTogether: [{ fields: ['network_id', 'controller_id'] }],
  toscaKey: ['network_id', 'controller_id'],
  places: 'network_id',
  access: { read: [{ via: 'network_id' }], write: ADMINS_ONLY },
});
