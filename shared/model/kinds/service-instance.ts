import { defineModel } from '../define';
import { int, json, ref, str } from '../fields';

/** An instance of a service, e.g. one subscriber's vSG (XOS ServiceInstance, ex-Tenant). */
export const ServiceInstance = defineModel({
  kind: 'ServiceInstance',
  plural: 'serviceinstances',
  description: 'An instance of a service (one tenant of it).',
  fields: {
    name: str('Name of the service instance.', { max: 200 }),
    service_specific_id: str('Service-specific identifier.', { max: 30 }),
    service_specific_attribute: json('Service-specific attributes.'),
    link_deleted_count: int('Links deleted so far; bumps re-run the owner policies.', {
      default: 0,
      min: 0,
      feedback: true,
    }),
    owner_id: ref('Service', 'The service this is an instance of.', { required: true, reverse: 'service_instances' }),
    master_serviceinstance_id: ref('ServiceInstance', 'The master service instance.', {
      reverse: 'child_serviceinstances',
    }),
  },
  shards: 4,
  access: { read: [{ via: 'owner_id' }], write: [{ via: 'owner_id' }] },
});
