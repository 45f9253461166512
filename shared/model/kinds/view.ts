import { ADMINS_ONLY, ANYONE, defineModel } from '../define';
import { bool, str, text } from '../fields';

/** A console view (XOS View). */
export const View = defineModel({
  kind: 'View',
  plural: 'views',
  description: 'A named view of the operator console.',
  fields: {
    name: str('Name of the view.', { required: true, unique: true }),
    enabled: bool('Whether the view is shown.', true),
    description: text('What the view shows.'),
    url: str('Where the view lives.', { max: 1024 }),
  },
  access: { read: ANYONE, write: ADMINS_ONLY },
});
