import { defineModel, ROLE_NAMES, ROLES_BY_KIND } from '../define';
import { choice, datetime, genericRef } from '../fields';

/** Kinds a privilege may be granted on. */
export const PRIVILEGE_OBJECT_TYPES = ['Site', 'Slice', 'Service', 'Deployment'] as const;

/** Values of Privilege.permission: `role:<name>`. */
export const PERMISSIONS = ROLE_NAMES.map((r) => `role:${r}` as const) as unknown as readonly [
  `role:${(typeof ROLE_NAMES)[number]}`,
  ...`role:${(typeof ROLE_NAMES)[number]}`[],
];

/** A generic grant: accessor holds permission on object (XOS Privilege). */
export const Privilege = defineModel({
  kind: 'Privilege',
  plural: 'privileges',
  description: 'A grant of a role on an object (site, slice, service or deployment) to a user.',
  fields: {
    accessor_type: choice(['User'], 'Kind of the accessor.', { default: 'User' }),
    accessor_id: genericRef('accessor_type', ['User'], 'The user holding the privilege.', { required: true }),
    object_type: choice(PRIVILEGE_OBJECT_TYPES, 'Kind of the object the privilege is on.', { required: true }),
    object_id: genericRef('object_type', PRIVILEGE_OBJECT_TYPES, 'The object the privilege is on.', { required: true }),
    permission: choice(
      PERMISSIONS,
      'The role granted: site admin/pi/tech/user, slice admin/access, service or deployment admin.',
      {
        required: true,
      },
    ),
    granted: datetime('When the privilege was granted.'),
    expires: datetime('When the privilege expires (never if null).'),
  },
  uniqueTogether: [{ fields: ['accessor_id', 'object_id', 'permission'] }],
  toscaKey: ['accessor_id', 'object_id', 'permission'],
  validators: [
    {
      name: 'privilege_role_fits_object',
      check(obj) {
        const roles = ROLES_BY_KIND[String(obj.object_type)] ?? [];
        const role = String(obj.permission ?? '').replace(/^role:/, '');
        return (roles as readonly string[]).includes(role)
          ? undefined
          : {
              permission: `a ${String(obj.object_type)} privilege grants one of: ${roles.map((r) => `role:${r}`).join(', ')}`,
            };
      },
    },
  ],
  deriveOnCreate(obj) {
    if (obj.granted === undefined || obj.granted === null) obj.granted = new Date().toISOString();
  },
  access: {
    read: [{ self: 'accessor_id' }, { role: ['admin'], on: 'object_id' }],
    write: [{ role: ['admin'], on: 'object_id' }],
    adminFields: ['granted'],
  },
});
