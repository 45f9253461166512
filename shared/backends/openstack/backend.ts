/**
 * The OpenStack back-end of one controller: the factory BackendRouter calls for
 * `backend_type: openstack`. The Keystone session is opened lazily on the first call (the password
 * is read through the secrets port then, never stored in the item or logged) and shared by the
 * per-kind clients for as long as the controller's version is unchanged.
 */
import { TerminalBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { ExternalClient } from '../driver';
import type { Backend, BackendDeps, BackendFactory } from '../router';
import { OpenStackApi } from './api';
import { type ComputeOptions, instanceClient } from './compute';
import { grantClient, projectClient, userClient } from './identity';
import { imageClient } from './image';
import { networkClient, portClient } from './network';
import { type AdminLogin, OpenStackSession, type SessionConfig } from './session';

/** Tunables of the driver that are not part of the controller (tests shorten waits). */
export interface OpenStackDriverOptions extends ComputeOptions {
  readonly timeoutMs?: number;
}

/** The per-kind clients over one API. */
const CLIENTS: Readonly<Record<string, (api: OpenStackApi, options: OpenStackDriverOptions) => ExternalClient>> = {
  ControllerSite: (api) => projectClient(api, 'site'),
  ControllerSlice: (api) => projectClient(api, 'slice'),
  ControllerUser: (api) => userClient(api),
  ControllerSitePrivilege: (api) => grantClient(api, 'site'),
  ControllerSlicePrivilege: (api) => grantClient(api, 'slice'),
  ControllerNetwork: (api) => networkClient(api),
  ControllerImage: (api) => imageClient(api),
  Instance: (api, options) => instanceClient(api, options),
  Port: (api) => portClient(api),
};

/** Kinds the OpenStack driver synchronizes. */
export const OPENSTACK_KINDS = Object.keys(CLIENTS);

/** The session settings of a controller and its secret. */
export async function sessionConfig(
  controller: StoredObject,
  deps: Pick<BackendDeps, 'secrets'>,
  options: OpenStackDriverOptions = {},
): Promise<SessionConfig> {
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const authUrl = str(controller.auth_url);
  const ref = str(controller.credentials_ref);
  if (!authUrl) throw new TerminalBackendError(`Controller ${controller.id} has no auth_url`);
  if (!ref) throw new TerminalBackendError(`Controller ${controller.id} has no credentials_ref`);
  const secret = await deps.secrets.read(ref);
  const username = str(controller.admin_user) ?? secret.username;
  if (!username) throw new TerminalBackendError(`Controller ${controller.id} has no admin_user`);
  if (!secret.password) throw new TerminalBackendError(`secret ${ref} has no password`);
  return {
    authUrl,
    username,
    password: secret.password,
    project: str(controller.admin_tenant) ?? 'admin',
    domain: str(controller.domain),
    region: str(controller.region),
    timeoutMs: options.timeoutMs,
  };
}

/** A factory with driver options (tests, benchmarks). */
export function openstackBackendWith(options: OpenStackDriverOptions = {}): BackendFactory {
  return (controller, deps): Backend => {
    let api: Promise<OpenStackApi> | undefined;
    const connect = (): Promise<OpenStackApi> => {
      api ??= sessionConfig(controller, deps, options)
        .then((config) => new OpenStackApi(new OpenStackSession(config)))
        .catch((err) => {
          api = undefined;
          throw err;
        });
      return api;
    };
    const clients = new Map<string, Promise<ExternalClient>>();
    const real = (kind: string, make: NonNullable<(typeof CLIENTS)[string]>): Promise<ExternalClient> => {
      let client = clients.get(kind);
      if (!client) {
        client = connect().then((a) => make(a, options));
        client.catch(() => clients.delete(kind));
        clients.set(kind, client);
      }
      return client;
    };
    return {
      client(kind) {
        const make = CLIENTS[kind];
        if (!make) return undefined;
        return {
          observe: async (obj, ctx) => (await real(kind, make)).observe(obj, ctx),
          create: async (obj, ctx) => (await real(kind, make)).create(obj, ctx),
          update: async (obj, ctx) => (await real(kind, make)).update(obj, ctx),
          delete: async (obj, ctx) => (await real(kind, make)).delete(obj, ctx),
        };
      },
    };
  };
}

/** The factory registered for `backend_type: openstack`. */
export const openstackBackend: BackendFactory = openstackBackendWith();

/** The Controller fields that point at an OpenStack (the password goes to the secret `credentialsRef`). */
export function openstackControllerFields(login: AdminLogin, credentialsRef: string): Record<string, string> {
  return {
    backend_type: 'openstack',
    auth_url: login.authUrl,
    admin_user: login.adminUser,
    admin_tenant: login.adminProject,
    domain: login.domain,
    region: login.region,
    credentials_ref: credentialsRef,
  };
}
