import { defineModel } from '../define';
import { ref } from '../fields';

const SUBSCRIBERS = ['subscriber_service_instance_id', 'subscriber_service_id', 'subscriber_network_id'] as const;

/** An edge of a per-subscriber service chain (XOS ServiceInstanceLink). */
export const ServiceInstanceLink = defineModel({
  kind: 'ServiceInstanceLink',
  plural: 'serviceinstancelinks',
  description: 'An edge of a service chain: a provider service instance serving one subscriber.',
  fields: {
    provider_service_instance_id: ref('ServiceInstance', 'The provider service instance.', {
      required: true,
      reverse: 'provided_links',
    }),
    subscriber_service_instance_id: ref('ServiceInstance', 'Subscriber: a service instance.', {
      onDelete: 'cascade',
      reverse: 'subscribed_links',
    }),
    subscriber_service_id: ref('Service', 'Subscriber: a service.', {
      onDelete: 'cascade',
      reverse: 'subscribed_links',
    }),
    subscriber_network_id: ref('Network', 'Subscriber: a network.', {
      onDelete: 'cascade',
      reverse: 'subscribed_links',
    }),
  },
  shards: 4,
  // "No duplicate links": one guard per subscriber kind; a null subscriber disables its guard.
  uniqueTogether: SUBSCRIBERS.map((s) => ({ fields: ['provider_service_instance_id', s] as const })),
  toscaKey: ['provider_service_instance_id', ...SUBSCRIBERS],
  validators: [
    {
      name: 'service_instance_link_one_subscriber',
      check(obj) {
        const set = SUBSCRIBERS.filter((s) => obj[s] !== undefined && obj[s] !== null);
        if (set.length <= 1) return undefined;
        return Object.fromEntries(set.map((s) => [s, `only one subscriber may be set (got ${set.join(', ')})`]));
      },
    },
  ],
  access: { read: [{ via: 'provider_service_instance_id' }], write: [{ via: 'provider_service_instance_id' }] },
});
