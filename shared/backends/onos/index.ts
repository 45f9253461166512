/**
 * The ONOS back-end (Controller backend_type `onos`): one REST session per controller version,
 * and the client for each kind ONOS synchronizes. Mapping: mapping.ts; placement: placement.ts.
 */
import type { Backend, BackendFactory } from '../router';
import { appClient } from './apps';
import { OnosClient } from './client';
import { configClient } from './config';
import { dependencyClient, networkClient } from './vtn';

export { ONOS_RESOLVERS } from './placement';

/** The factory registered in BACKEND_FACTORIES under `onos`. */
export const onosBackend: BackendFactory = (controller, deps): Backend => {
  const onos = new OnosClient(controller, deps.secrets);
  const config = configClient(onos);
  const clients = {
    ServiceInstance: appClient(onos),
    ServiceInstanceAttribute: config,
    ServiceAttribute: config,
    Network: networkClient(onos),
    ServiceDependency: dependencyClient(onos),
  } as const;
  return { client: (kind) => clients[kind as keyof typeof clients] };
};
