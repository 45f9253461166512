import { ADMINS_ONLY, defineModel } from '../define';
import { ref, str } from '../fields';

/** Mirror of a site privilege on a controller (Keystone role assignment on the site project). */
export const ControllerSitePrivilege = defineModel({
  kind: 'ControllerSitePrivilege',
  plural: 'controllersiteprivileges',
  description: 'A site privilege placed on a controller (a Keystone role assignment).',
  fields: {
    controller_id: ref('Controller', 'The controller.', { required: true, reverse: 'controllersiteprivileges' }),
    site_privilege_id: ref('Privilege', 'The site privilege.', { required: true, reverse: 'controllersiteprivileges' }),
    role_id: str('Back-end role id.', { feedback: true, max: 200 }),
  },
  uniqueTogether: [{ fields: ['controller_id', 'site_privilege_id'] }],
  toscaKey: ['controller_id', 'site_privilege_id'],
  places: 'site_privilege_id',
  access: { read: [{ via: 'site_privilege_id' }], write: ADMINS_ONLY },
});
