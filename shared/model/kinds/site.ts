import { ADMINS_ONLY, ANYONE, defineModel } from '../define';
import { bool, float, str } from '../fields';

/** A physical or administrative site: owns users, slices and nodes (XOS Site). */
export const Site = defineModel({
  kind: 'Site',
  plural: 'sites',
  description: 'A site: an administrative domain that owns users, slices and nodes.',
  fields: {
    name: str('Name of the site.', { required: true, unique: true }),
    site_url: str("The site's home page.", { max: 512, format: 'url' }),
    enabled: bool('Whether the site is enabled.', true),
    hosts_nodes: bool('Whether the site hosts compute nodes.', true),
    hosts_users: bool('Whether the site hosts users.', true),
    longitude: float('Longitude of the site.', { min: -180, max: 180 }),
    latitude: float('Latitude of the site.', { min: -90, max: 90 }),
    login_base: str('Prefix for slices of this site.', { required: true, unique: true, max: 50 }),
    is_public: bool('Whether the site is listed publicly.', true),
    abbreviated_name: str('Short name of the site.', { required: true, max: 80 }),
  },
  access: { read: ANYONE, write: [{ role: ['admin'], on: 'id' }], create: ADMINS_ONLY, delete: ADMINS_ONLY },
});
