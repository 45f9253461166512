import { defineModel } from '../define';
import { ref, str, text } from '../fields';

/** A name/value attribute of a service instance; for ONOS, name = REST path, value = JSON body. */
export const ServiceInstanceAttribute = defineModel({
  kind: 'ServiceInstanceAttribute',
  plural: 'serviceinstanceattributes',
  description: 'A name/value attribute of a service instance (ONOS: path and JSON configuration).',
  fields: {
    name: str('Attribute name.', { required: true, max: 128 }),
    value: text('Attribute value.'),
    service_instance_id: ref('ServiceInstance', 'The service instance.', {
      required: true,
      reverse: 'service_instance_attributes',
    }),
  },
  uniqueTogether: [{ fields: ['name', 'service_instance_id'] }],
  toscaKey: ['name', 'service_instance_id'],
  access: { read: [{ via: 'service_instance_id' }], write: [{ via: 'service_instance_id' }] },
});
