import { ANYONE, defineModel } from '../define';
import { ref, str } from '../fields';

/** Binds a site to a deployment and the controller that serves it (XOS SiteDeployment). */
export const SiteDeployment = defineModel({
  kind: 'SiteDeployment',
  plural: 'sitedeployments',
  description: 'Binds a site to a deployment, and to the controller that serves the site there.',
  fields: {
    site_id: ref('Site', 'The site.', { required: true, reverse: 'sitedeployments' }),
    deployment_id: ref('Deployment', 'The deployment.', { required: true, reverse: 'sitedeployments' }),
    controller_id: ref('Controller', 'The controller serving this site in the deployment.', {
      reverse: 'sitedeployments',
    }),
    availability_zone: str('OpenStack availability zone for this site.'),
  },
  uniqueTogether: [{ fields: ['site_id', 'deployment_id'] }],
  toscaKey: ['site_id', 'deployment_id'],
  access: { read: ANYONE, write: [{ role: ['admin'], on: 'deployment_id' }] },
});
