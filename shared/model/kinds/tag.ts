import { ADMINS_ONLY, defineModel } from '../define';
import { choice, genericRef, ref, str, text } from '../fields';

/** Kinds a tag may be attached to. */
export const TAGGABLE_KINDS = ['Site', 'Slice', 'Instance', 'Network', 'Node', 'Service', 'ServiceInstance'] as const;

/** A name/value tag a service attaches to any object (XOS Tag). */
export const Tag = defineModel({
  kind: 'Tag',
  plural: 'tags',
  description: 'A name/value tag that a service attaches to an object.',
  fields: {
    name: str('Tag name.', { required: true, max: 128 }),
    value: text('Tag value.', { required: true }),
    content_type: choice(TAGGABLE_KINDS, 'Kind of the tagged object.', { required: true }),
    object_id: genericRef('content_type', TAGGABLE_KINDS, 'The tagged object.', { required: true }),
    service_id: ref('Service', 'The service that owns the tag.', { required: true, reverse: 'tags' }),
  },
  uniqueTogether: [{ fields: ['name', 'object_id', 'service_id'] }],
  toscaKey: ['name', 'object_id', 'service_id'],
  access: { read: ADMINS_ONLY, write: ADMINS_ONLY },
});
