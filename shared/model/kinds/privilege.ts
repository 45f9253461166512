import { defineModel } from '../define';
import { choice, datetime, genericRef, str } from '../fields';

/** Kinds a privilege may be granted on. */
export const PRIVILEGE_OBJECT_TYPES = ['Site', 'Slice', 'Service', 'Deployment'] as const;

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
    permission: str('The role granted, e.g. "role:admin".', { max: 128, default: 'all' }),
    granted: datetime('When the privilege was granted.'),
    expires: datetime('When the privilege expires (never if null).'),
  },
  uniqueTogether: [{ fields: ['accessor_id', 'object_id', 'permission'] }],
  toscaKey: ['accessor_id', 'object_id', 'permission'],
  deriveOnCreate(obj) {
    if (obj.granted === undefined || obj.granted === null) obj.granted = new Date().toISOString();
  },
});
