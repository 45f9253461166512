import { defineModel } from '../define';
import { ref, str, text } from '../fields';

/** A pool of IP addresses a service allocates from (XOS AddressPool). */
export const AddressPool = defineModel({
  kind: 'AddressPool',
  plural: 'addresspools',
  description: 'A pool of IP addresses a service allocates from.',
  fields: {
    name: str('Name of the pool.', { required: true, unique: true, max: 32 }),
    addresses: text('Space-separated free addresses.'),
    inuse: text('Space-separated addresses in use.'),
    cidr: str('CIDR of the pool.', { required: true, format: 'cidr', max: 49 }),
    gateway_ip: str('Gateway address.', { format: 'ip', max: 45 }),
    gateway_mac: str('Gateway MAC address.', { format: 'mac', max: 17 }),
    service_id: ref('Service', 'The service owning the pool.', { reverse: 'addresspools' }),
  },
  access: { read: [{ via: 'service_id' }], write: [{ via: 'service_id' }] },
});
