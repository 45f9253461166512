/**
 * The back-end driver interface (Crossplane's external client, XOS's sync_record/delete_record):
 * the synchronizer observes, then creates or updates only what differs, and deletes. Drivers
 * throw RetryableBackendError or TerminalBackendError (shared/errors.ts), never anything else on
 * purpose.
 */
import type { StoredObject } from '../store/store';

/** Back-end identifiers of an object (stored in `backend_handle`). */
export type Handle = Record<string, unknown>;

/** What the back-end holds for an object. */
export interface Observation {
  readonly exists: boolean;
  /** The back-end matches the object's desired state. */
  readonly upToDate: boolean;
  /** Settled (e.g. ACTIVE, running), as opposed to still converging (BUILD, pending). */
  readonly settled: boolean;
  readonly handle?: Handle;
  /** Feedback fields the back-end determines (Instance.instance_id, ControllerSlice.tenant_id ...). */
  readonly feedback?: Record<string, unknown>;
  /** Set when the back-end reports a failed resource (Nova ERROR with its fault). */
  readonly failure?: string;
}

/** Read access to the model for drivers that need more than the object's direct references. */
export interface ObjectLookup {
  /** One object by kind and id (soft-deleted included), or undefined. */
  get(kind: string, id: string): Promise<StoredObject | undefined>;
  /** Live objects of `kind` whose reference `field` points at `targetId`, via the reference index. */
  referencing(kind: string, field: string, targetId: string, limit?: number): Promise<StoredObject[]>;
}

/** Everything a driver call may need besides the object. */
export interface DriverContext {
  /** Objects the object references (its controller, slice, image ...), loaded by the caller, keyed by id. */
  readonly related: ReadonlyMap<string, StoredObject>;
  /** Further reads (the slice's ControllerSlice, an instance's ports ...). */
  readonly lookup: ObjectLookup;
  /** The controller the object is placed on, when the router resolved one. */
  readonly controller?: StoredObject;
}

/** Observe / create / update / delete one kind on one back-end. Every method must be idempotent. */
export interface ExternalClient {
  observe(obj: StoredObject, ctx: DriverContext): Promise<Observation>;
  /** Create what is missing; must find-by-name first, so a retry after a crash never duplicates. */
  create(obj: StoredObject, ctx: DriverContext): Promise<Handle>;
  update(obj: StoredObject, ctx: DriverContext): Promise<Handle>;
  /** Remove; absent already counts as success. */
  delete(obj: StoredObject, ctx: DriverContext): Promise<void>;
}

/** A client chosen for an object, with the context its calls receive (the resolved controller). */
export interface RoutedClient {
  readonly client: ExternalClient;
  readonly ctx: DriverContext;
}

/** Chooses the client for an object; undefined means the object has no back-end presence. */
export interface DriverRouter {
  clientFor(obj: StoredObject, ctx: DriverContext): Promise<RoutedClient | undefined>;
}
