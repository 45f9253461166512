import { defineModel } from '../define';
import { ref, str, text } from '../fields';

/** A name/value attribute of a service (XOS ServiceAttribute). */
export const ServiceAttribute = defineModel({
  kind: 'ServiceAttribute',
  plural: 'serviceattributes',
  description: 'A name/value attribute of a service.',
  fields: {
    name: str('Attribute name.', { required: true, max: 128 }),
    value: text('Attribute value.', { required: true }),
    service_id: ref('Service', 'The service.', { required: true, reverse: 'serviceattributes' }),
  },
  uniqueTogether: [{ fields: ['name', 'service_id'] }],
  toscaKey: ['name', 'service_id'],
  access: { read: [{ via: 'service_id' }], write: [{ via: 'service_id' }] },
});
