import { ADMINS_ONLY, defineModel } from '../define';
import { ref, str } from '../fields';

/** Placement of a site on a controller (Keystone project); created by the Site policy. */
export const ControllerSite = defineModel({
  kind: 'ControllerSite',
  plural: 'controllersites',
  description: 'Placement of a site on a controller (an OpenStack project); created by model policies.',
  fields: {
    site_id: ref('Site', 'The site.', { required: true, reverse: 'controllersite' }),
    controller_id: ref('Controller', 'The controller.', { required: true, reverse: 'controllersite' }),
    tenant_id: str('Back-end project id.', { feedback: true, max: 200 }),
  },
  uniqueTogether: [{ fields: ['site_id', 'controller_id'] }],
  toscaKey: ['site_id', 'controller_id'],
  places: 'site_id',
  access: { read: [{ role: ['admin', 'pi', 'tech'], on: 'site_id' }], write: ADMINS_ONLY },
});
