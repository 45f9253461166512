import { ADMINS_ONLY, defineModel } from '../define';
import { ref, str } from '../fields';

/** Mirror of a slice privilege on a controller (Keystone role assignment on the slice project). */
export const ControllerSlicePrivilege = defineModel({
  kind: 'ControllerSlicePrivilege',
  plural: 'controllersliceprivileges',
  description: 'A slice privilege placed on a controller (a Keystone role assignment).',
  fields: {
    controller_id: ref('Controller', 'The controller.', { required: true, reverse: 'controllersliceprivileges' }),
    slice_privilege_id: ref('Privilege', 'The slice privilege.', {
      required: true,
      reverse: 'controllersliceprivileges',
    }),
    role_id: str('Back-end role id.', { feedback: true, max: 200 }),
  },
  uniqueTogether: [{ fields: ['controller_id', 'slice_privilege_id'] }],
  toscaKey: ['controller_id', 'slice_privilege_id'],
  places: 'slice_privilege_id',
  access: { read: [{ via: 'slice_privilege_id' }], write: ADMINS_ONLY },
});
