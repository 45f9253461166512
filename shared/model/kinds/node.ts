import { ANYONE, defineModel } from '../define';
import { ref, str } from '../fields';

/** A compute node of a site in a deployment (XOS Node). */
export const Node = defineModel({
  kind: 'Node',
  plural: 'nodes',
  description: 'A compute node of a site in a deployment.',
  fields: {
    name: str('Host name of the node.', { required: true, unique: true }),
    bridgeId: str('Data-plane bridge id.', { max: 200 }),
    dataPlaneIntf: str('Data-plane interface.', { max: 200 }),
    dataPlaneIp: str('Data-plane IP address (CIDR).', { max: 200 }),
    hostManagementIface: str('Host management interface.', { max: 200 }),
    site_deployment_id: ref('SiteDeployment', 'The site and deployment this node belongs to.', {
      required: true,
      onDelete: 'protect',
      reverse: 'nodes',
    }),
  },
  access: { read: ANYONE, write: [{ via: 'site_deployment_id' }] },
});
