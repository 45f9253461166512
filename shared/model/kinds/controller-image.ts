import { ADMINS_ONLY, ANYONE, defineModel } from '../define';
import { ref, str } from '../fields';

/** Placement of an image on a controller (Glance image or AMI). */
export const ControllerImage = defineModel({
  kind: 'ControllerImage',
  plural: 'controllerimages',
  description: 'Placement of an image on a controller (a Glance image or an AMI).',
  fields: {
    image_id: ref('Image', 'The image.', { required: true, reverse: 'controllerimages' }),
    controller_id: ref('Controller', 'The controller.', { required: true, reverse: 'controllerimages' }),
    glance_image_id: str('Back-end image id.', { feedback: true, max: 200 }),
  },
  uniqueTogether: [{ fields: ['image_id', 'controller_id'] }],
  toscaKey: ['image_id', 'controller_id'],
  places: 'image_id',
  access: { read: ANYONE, write: ADMINS_ONLY },
});
