import { ADMINS_ONLY, ANYONE, defineModel } from '../define';
import { str, text } from '../fields';

/** A group of controllers that sites can be bound to (XOS Deployment). */
export const Deployment = defineModel({
  kind: 'Deployment',
  plural: 'deployments',
  description: 'A deployment: a group of back-end controllers that sites are bound to.',
  fields: {
    name: str('Name of the deployment.', { required: true, unique: true }),
    accessControl: text('Access control policy (XOS syntax).', { default: 'allow all' }),
  },
  access: { read: ANYONE, write: [{ role: ['admin'], on: 'id' }], create: ADMINS_ONLY, delete: ADMINS_ONLY },
});
