import { defineModel } from '../define';
import { choice, ref } from '../fields';

/** An edge of the service graph: subscriber service is a tenant of provider service. */
export const ServiceDependency = defineModel({
  kind: 'ServiceDependency',
  plural: 'servicedependencies',
  description: 'An edge of the service graph: the subscriber service is a tenant of the provider service.',
  fields: {
    provider_service_id: ref('Service', 'The provider service.', { required: true, reverse: 'provided_dependencies' }),
    subscriber_service_id: ref('Service', 'The subscriber service.', {
      required: true,
      reverse: 'subscribed_dependencies',
    }),
    connect_method: choice(['none', 'private', 'public'], 'How the data planes connect.', { default: 'none' }),
  },
  uniqueTogether: [{ fields: ['provider_service_id', 'subscriber_service_id'] }],
  toscaKey: ['provider_service_id', 'subscriber_service_id'],
  validators: [
    {
      name: 'service_dependency_not_self',
      check: (obj) =>
        obj.provider_service_id === obj.subscriber_service_id
          ? { subscriber_service_id: 'a service cannot be a tenant of itself' }
          : undefined,
    },
  ],
  access: {
    read: [{ via: 'provider_service_id' }, { via: 'subscriber_service_id' }],
    write: [{ via: 'provider_service_id' }],
  },
});
