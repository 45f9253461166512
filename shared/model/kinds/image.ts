import { ADMINS_ONLY, ANYONE, defineModel } from '../define';
import { choice, str } from '../fields';

/** A VM or container image (XOS Image). */
export const Image = defineModel({
  kind: 'Image',
  plural: 'images',
  description: 'A VM or container image.',
  fields: {
    name: str('Name of the image.', { required: true, max: 256 }),
    image_kind: choice(
      ['vm', 'container'],
      'VM image or container image (XOS Image.kind; renamed: kind is the model kind).',
      {
        default: 'vm',
      },
    ),
    disk_format: str('Disk format, e.g. qcow2.', { max: 256 }),
    container_format: str('Container format, e.g. bare.', { max: 256 }),
    path: str('Path or URL of the image file.', { max: 256 }),
    tag: str('Version tag (containers).', { max: 256 }),
  },
  // A null tag counts as a value, so (name, no tag) names exactly one image: TOSCA lookups by
  // natural key stay unambiguous (XOS/Postgres treated NULLs as distinct and allowed duplicates).
  uniqueTogether: [{ fields: ['name', 'tag'], nullsEqual: true }],
  toscaKey: ['name', 'tag'],
  access: { read: ANYONE, write: ADMINS_ONLY },
});
