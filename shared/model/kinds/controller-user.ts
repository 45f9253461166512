import { ADMINS_ONLY, defineModel } from '../define';
import { ref, str } from '../fields';

/** Placement of a user on a controller (Keystone user); created by the User policy. */
export const ControllerUser = defineModel({
  kind: 'ControllerUser',
  plural: 'controllerusers',
  description: 'Placement of a user on a controller (a Keystone user); created by model policies.',
  fields: {
    user_id: ref('User', 'The user.', { required: true, reverse: 'controllerusers' }),
    controller_id: ref('Controller', 'The controller.', { required: true, reverse: 'controllersusers' }),
    kuser_id: str('Back-end user id.', { feedback: true, max: 200 }),
  },
  uniqueTogether: [{ fields: ['user_id', 'controller_id'] }],
  toscaKey: ['user_id', 'controller_id'],
  places: 'user_id',
  access: { read: [{ via: 'user_id' }], write: ADMINS_ONLY },
});
