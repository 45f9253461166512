import { ADMINS_ONLY, ANYONE, defineModel } from '../define';
import { str, text } from '../fields';

/** A named role (XOS Role), synchronized to back-end roles such as Keystone's. */
export const Role = defineModel({
  kind: 'Role',
  plural: 'roles',
  description: 'A named role, e.g. site admin or slice access.',
  fields: {
    role_type: str('Role name, e.g. "admin".', { required: true, max: 80, unique: true }),
    role: str('Back-end role name.', { max: 80 }),
    description: text('What the role grants.'),
  },
  toscaKey: ['role_type'],
  access: { read: ANYONE, write: ADMINS_ONLY },
});
