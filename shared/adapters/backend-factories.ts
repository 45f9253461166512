/**
 * The back-end factories by Controller `backend_type`: the one table the AWS composition and the
 * local runtime hand to BackendRouter. Each driver module registers itself here with one line. It
 * lives with the adapters because the EC2 factory wraps the AWS SDK (the core never imports it).
 */

import { ONOS_RESOLVERS, onosBackend } from '../backends/onos';
import { openstackBackend } from '../backends/openstack/backend';
import type { BackendFactory, ControllerResolver } from '../backends/router';
import { ec2Backend } from './ec2/sdk-api';

/** backend_type -> factory. */
export const BACKEND_FACTORIES: Readonly<Partial<Record<string, BackendFactory>>> = {
  ec2: ec2Backend,
  onos: onosBackend,
  openstack: openstackBackend,
};

/** Extra placement rules contributed by drivers (kind -> resolver). */
export const BACKEND_RESOLVERS: Readonly<Record<string, ControllerResolver>> = {
  // ONOS: apps (ServiceInstance), /onos/ attributes, controller_kind onos networks, service dependencies.
  ...ONOS_RESOLVERS,
};
