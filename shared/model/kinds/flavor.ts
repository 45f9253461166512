import { ADMINS_ONLY, ANYONE, defineModel } from '../define';
import { str, text } from '../fields';

/** An instance size (XOS Flavor). */
export const Flavor = defineModel({
  kind: 'Flavor',
  plural: 'flavors',
  description: 'An instance size (maps to a Nova flavor or an EC2 instance type).',
  fields: {
    name: str('Name of the flavor.', { required: true, unique: true, max: 32 }),
    description: text('What the flavor is.'),
    flavor: str('Back-end flavor name or instance type (defaults to the name).', { max: 32 }),
  },
  access: { read: ANYONE, write: ADMINS_ONLY },
});
