import { defineModel } from '../define';
import { choice, ref, str } from '../fields';

/** Back-end types a controller can drive. */
export const BACKEND_TYPES = ['openstack', 'ec2', 'onos'] as const;

/**
 * One back-end endpoint (XOS Controller). Credentials are never stored here: `credentials_ref`
 * names a secret held by the secrets port (Secrets Manager in AWS, an encrypted file locally).
 */
export const Controller = defineModel({
  kind: 'Controller',
  plural: 'controllers',
  description: 'A back-end endpoint (OpenStack, EC2 or ONOS) serving a deployment.',
  fields: {
    name: str('Name of the controller.', { required: true, unique: true }),
    backend_type: choice(BACKEND_TYPES, 'Which driver synchronizes objects placed on this controller.', {
      required: true,
    }),
    backend_version: str('Back-end version (XOS Controller.version; renamed: version is the object version).', {
      max: 200,
    }),
    auth_url: str('Endpoint: Keystone auth URL, EC2 endpoint or ONOS REST base URL.', { max: 512, format: 'url' }),
    region: str('Back-end region.', { max: 64 }),
    domain: str('Keystone domain.', { max: 200 }),
    admin_user: str('Administrative user name (not secret).', { max: 200 }),
    admin_tenant: str('Administrative project name.', { max: 200 }),
    credentials_ref: str('Name of the secret holding the credentials (never the secret itself).', { max: 512 }),
    deployment_id: ref('Deployment', 'The deployment this controller serves.', {
      required: true,
      onDelete: 'protect',
      reverse: 'controllerdeployments',
    }),
  },
  access: { read: [{ role: ['admin'], on: 'deployment_id' }], write: [{ role: ['admin'], on: 'deployment_id' }] },
});
