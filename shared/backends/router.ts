/**
 * The production driver router: an object is placed on a Controller (directly through
 * `controller_id` for the placement records, through its node or deployment for an Instance,
 * through its instance for a Port, or by a back-end specific resolver), and the Controller's
 * `backend_type` chooses the driver. One back-end session is kept per controller version, so a
 * warm Lambda reuses its Keystone token and HTTP connections until the controller changes.
 */
import type { Logger } from '../api/errors';
import { TerminalBackendError } from '../errors';
import { modelByKind } from '../model/registry';
import type { SecretsPort } from '../secrets/secrets';
import type { StoredObject } from '../store/store';
import type { DriverContext, DriverRouter, ExternalClient, RoutedClient } from './driver';

/** One controller's back-end: the client for each kind it synchronizes (undefined: no presence). */
export interface Backend {
  client(kind: string): ExternalClient | undefined;
}

/** What a back-end factory receives besides the controller. */
export interface BackendDeps {
  readonly secrets: SecretsPort;
  readonly log?: Logger;
}

/** Builds the back-end session of one controller (`backend_type` chooses the factory). */
export type BackendFactory = (controller: StoredObject, deps: BackendDeps) => Backend;

/** Finds the controller an object is placed on; undefined means the object has no back-end presence. */
export type ControllerResolver = (obj: StoredObject, ctx: DriverContext) => Promise<StoredObject | undefined>;

/** The object unless it is soft-deleted. */
export const live = (o: StoredObject | undefined): StoredObject | undefined => (o && !o.deleted ? o : undefined);

/** A referenced object by id (soft-deleted included), from the preloaded relatives or the lookup. */
export async function related(ctx: DriverContext, kind: string, id: unknown): Promise<StoredObject | undefined> {
  if (typeof id !== 'string') return undefined;
  return ctx.related.get(id) ?? (await ctx.lookup.get(kind, id));
}

/** Placement records name their controller. */
const byControllerId: ControllerResolver = (obj, ctx) => related(ctx, 'Controller', obj.controller_id);

/** An Instance runs where its node's site deployment points, else on its deployment's controller. */
const instanceController: ControllerResolver = async (obj, ctx) => {
  const node = await related(ctx, 'Node', obj.node_id);
  const siteDeployment = node ? await related(ctx, 'SiteDeployment', node.site_deployment_id) : undefined;
  const viaNode = live(await related(ctx, 'Controller', siteDeployment?.controller_id));
  if (viaNode) return viaNode;
  if (typeof obj.deployment_id !== 'string') return undefined;
  const [controller] = await ctx.lookup.referencing('Controller', 'deployment_id', obj.deployment_id, 1);
  if (!controller)
    throw new TerminalBackendError(`no controller serves deployment ${obj.deployment_id} of Instance ${obj.id}`);
  return controller;
};

/** A Port lives where its instance runs (service-instance ports have no back-end presence here). */
const portController: ControllerResolver = async (obj, ctx) => {
  const instance = await related(ctx, 'Instance', obj.instance_id);
  return instance ? instanceController(instance, { ...ctx, related: new Map() }) : undefined;
};

/** The built-in resolvers; back-ends add their own (ONOS places networks by template). */
export const DEFAULT_RESOLVERS: Readonly<Record<string, ControllerResolver>> = {
  Instance: instanceController,
  Port: portController,
};

/** Options of the router. */
export interface BackendRouterOptions {
  readonly factories: Readonly<Partial<Record<string, BackendFactory>>>;
  readonly secrets: SecretsPort;
  /** Per-kind resolvers that replace or extend DEFAULT_RESOLVERS. */
  readonly resolvers?: Readonly<Record<string, ControllerResolver>>;
  readonly log?: Logger;
}

/** Routes each object to its controller's driver. */
export class BackendRouter implements DriverRouter {
  private readonly resolvers: Record<string, ControllerResolver>;
  private readonly sessions = new Map<string, Backend>();

  constructor(private readonly options: BackendRouterOptions) {
    this.resolvers = { ...DEFAULT_RESOLVERS, ...(options.resolvers ?? {}) };
  }

  async clientFor(obj: StoredObject, ctx: DriverContext): Promise<RoutedClient | undefined> {
    const resolver =
      this.resolvers[obj.kind] ?? (modelByKind(obj.kind)?.allFields.controller_id ? byControllerId : undefined);
    if (!resolver) return undefined;
    const controller = await resolver(obj, ctx);
    if (!controller) return undefined;
    const client = this.backendOf(controller).client(obj.kind);
    return client ? { client, ctx: { ...ctx, controller } } : undefined;
  }

  /** The back-end session of a controller, made once per controller version. */
  backendOf(controller: StoredObject): Backend {
    const key = `${controller.id}@${controller.version}`;
    let backend = this.sessions.get(key);
    if (!backend) {
      const type = String(controller.backend_type);
      const factory = this.options.factories[type];
      if (!factory) throw new TerminalBackendError(`no driver for backend_type ${type} (Controller ${controller.id})`);
      for (const old of this.sessions.keys()) if (old.startsWith(`${controller.id}@`)) this.sessions.delete(old);
      backend = factory(controller, { secrets: this.options.secrets, log: this.options.log });
      this.sessions.set(key, backend);
    }
    return backend;
  }
}
