import { ADMINS_ONLY, defineModel } from '../define';
import { bool, choice, json, ref, str, text } from '../fields';

/** A service: a first-class, composable unit built from slices and a controller (XOS Service). */
export const Service = defineModel({
  kind: 'Service',
  plural: 'services',
  description: 'A service, built from slices and a controller, composable through tenancy.',
  fields: {
    name: str('Name of the service.', { required: true, unique: true, max: 30 }),
    description: text('What the service does.'),
    enabled: bool('Whether the service is enabled.', true),
    service_kind: choice(
      ['generic', 'data', 'control', 'oss'],
      'Kind of service (XOS Service.kind; renamed: kind is the model kind).',
      {
        default: 'generic',
      },
    ),
    versionNumber: str('Version of the service.', { max: 30 }),
    published: bool('Whether the service is published.', true),
    icon_url: str('Icon of the service.', { max: 1024, format: 'url' }),
    public_key: text('Public key of the service, injected into its instances.'),
    private_key_fn: str('File holding the private key.', { max: 1024 }),
    service_specific_id: str('Service-specific identifier.', { max: 30 }),
    service_specific_attribute: json('Service-specific attributes.'),
    site_id: ref('Site', 'The site hosting the service.', { reverse: 'service' }),
  },
  access: {
    read: [{ role: ['admin'], on: 'id' }],
    write: [{ role: ['admin'], on: 'id' }],
    create: ADMINS_ONLY,
    delete: ADMINS_ONLY,
  },
});
