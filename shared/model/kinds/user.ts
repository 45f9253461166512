import { defineModel } from '../define';
import { bool, password, ref, str, text } from '../fields';

/** An XOS user. The password is write-only and stored as an scrypt hash. */
export const User = defineModel({
  kind: 'User',
  plural: 'users',
  description: 'A user of the control plane.',
  fields: {
    email: str('Email address; the login name.', { required: true, unique: true, max: 255, format: 'email' }),
    username: str('Login name; defaults to the email.', { unique: true, max: 255 }),
    password: password('Password (write-only; stored as a salted scrypt hash).'),
    firstname: str('First name.', { max: 200 }),
    lastname: str('Last name.', { max: 200 }),
    phone: str('Phone number.', { max: 100 }),
    user_url: str("The user's home page.", { max: 512, format: 'url' }),
    public_key: text('SSH public key, injected into the instances of slices the user belongs to.'),
    is_active: bool('Whether the user may log in.', true),
    is_admin: bool('Cloud administrator.', false),
    is_staff: bool('Staff member.', false),
    is_readonly: bool('May only read.', false),
    is_registering: bool('Registration pending.', false),
    is_appuser: bool('Application (service) account.', false),
    login_page: str('Page shown after login.', { max: 200 }),
    timezone: str('Time zone of the user.', { max: 100, default: 'America/New_York' }),
    site_id: ref('Site', 'The site this user belongs to.', { required: true, onDelete: 'protect', reverse: 'users' }),
  },
  toscaKey: ['email'],
  deriveOnCreate(obj) {
    if (obj.username === undefined || obj.username === null) obj.username = obj.email;
  },
  access: {
    read: [{ self: 'id' }, { role: ['admin', 'pi', 'tech', 'user'], on: 'site_id' }],
    write: [{ self: 'id' }, { role: ['admin'], on: 'site_id' }],
    create: [{ role: ['admin'], on: 'site_id' }],
    delete: [{ role: ['admin'], on: 'site_id' }],
    adminFields: ['is_admin', 'is_staff', 'is_appuser'],
  },
});
