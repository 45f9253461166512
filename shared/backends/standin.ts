/**
 * The back-end stand-in: an in-process "cloud" holding one resource per synchronized object, with
 * knobs for latency, error rate and asynchronous settling (BUILD -> ACTIVE). It lets objects reach
 * `enacted` before real drivers exist, and lets tests inject faults a real peer cannot produce on
 * demand. Resources are found by a name derived from the object id, so creates are idempotent.
 */
import { RetryableBackendError, TerminalBackendError } from '../errors';
import type { StoredObject } from '../store/store';
import type { DriverContext, DriverRouter, ExternalClient, Handle, Observation, RoutedClient } from './driver';

/** Knobs of the stand-in. */
export interface StandInOptions {
  /** Latency of every call, in ms. */
  latencyMs?: number;
  /** Probability (0..1) that a call fails with a retryable error. */
  errorRate?: number;
  /** Time a created resource takes to settle, in ms (0 = at once). */
  settleMs?: number;
  /** Kinds that have a back-end presence. */
  kinds?: readonly string[];
  /** Kinds whose create/update fails every time, retryably or terminally (fault injection). */
  failKinds?: Readonly<Record<string, 'retryable' | 'terminal'>>;
  random?: () => number;
}

/** Kinds the stand-in synchronizes by default: placement records, instances and ports. */
export const STAND_IN_KINDS = [
  'ControllerSite',
  'ControllerSlice',
  'ControllerUser',
  'ControllerNetwork',
  'ControllerImage',
  'ControllerSitePrivilege',
  'ControllerSlicePrivilege',
  'Instance',
  'Port',
] as const;

interface Resource {
  readonly name: string;
  readonly kind: string;
  readonly backendId: string;
  version: number;
  readyAt: number;
}

/** The simulated back-end and its call counters. */
export class StandInCloud implements DriverRouter {
  readonly resources = new Map<string, Resource>();
  /** How many creates happened per resource name: any value above 1 is a duplicate. */
  readonly creates = new Map<string, number>();
  readonly calls = { observe: 0, create: 0, update: 0, delete: 0, failures: 0 };
  options: Required<Omit<StandInOptions, 'random'>> & { random: () => number };
  private seq = 0;
  private readonly client: ExternalClient;

  constructor(options: StandInOptions = {}) {
    this.options = {
      latencyMs: options.latencyMs ?? 0,
      errorRate: options.errorRate ?? 0,
      settleMs: options.settleMs ?? 0,
      kinds: options.kinds ?? STAND_IN_KINDS,
      failKinds: options.failKinds ?? {},
      random: options.random ?? Math.random,
    };
    this.client = {
      observe: (obj) => this.call('observe', () => this.observe(obj)),
      create: (obj) => this.call('create', () => this.failIfAsked(obj) ?? this.create(obj)),
      update: (obj) => this.call('update', () => this.failIfAsked(obj) ?? this.update(obj)),
      delete: (obj) => this.call('delete', () => this.remove(obj)),
    };
  }

  /** Change knobs at run time (latency, error rate, settle time). */
  configure(options: StandInOptions): void {
    this.options = {
      ...this.options,
      ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    };
  }

  async clientFor(obj: StoredObject, ctx: DriverContext): Promise<RoutedClient | undefined> {
    return this.handles(obj) ? { client: this.client, ctx } : undefined;
  }

  /** Whether the stand-in synchronizes this object's kind. */
  handles(obj: Pick<StoredObject, 'kind'>): boolean {
    return this.options.kinds.includes(obj.kind);
  }

  /** Resource name of an object: deterministic, so find-before-create makes creates idempotent. */
  static nameOf(obj: Pick<StoredObject, 'kind' | 'id'>): string {
    return `xos-${obj.kind.toLowerCase()}-${obj.id.toLowerCase()}`;
  }

  /** Remove a resource behind XOS's back (drift). */
  deleteOutOfBand(obj: Pick<StoredObject, 'kind' | 'id'>): boolean {
    return this.resources.delete(StandInCloud.nameOf(obj));
  }

  private async call<T>(op: keyof StandInCloud['calls'], fn: () => T): Promise<T> {
    this.calls[op]++;
    if (this.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    if (this.options.errorRate > 0 && this.options.random() < this.options.errorRate) {
      this.calls.failures++;
      throw new RetryableBackendError(`stand-in: injected failure on ${op}`);
    }
    return fn();
  }

  private failIfAsked(obj: StoredObject): undefined {
    const mode = this.options.failKinds[obj.kind];
    if (mode === undefined) return undefined;
    this.calls.failures++;
    if (mode === 'terminal') throw new TerminalBackendError(`stand-in: ${obj.kind} rejected (quota exceeded)`);
    throw new RetryableBackendError(`stand-in: ${obj.kind} back-end unavailable`);
  }

  private observe(obj: StoredObject): Observation {
    const r = this.resources.get(StandInCloud.nameOf(obj));
    if (!r) return { exists: false, upToDate: false, settled: false };
    return {
      exists: true,
      upToDate: r.version === obj.version,
      settled: Date.now() >= r.readyAt,
      handle: { name: r.name, backend_id: r.backendId },
      feedback: feedbackFor(obj.kind, r.backendId),
    };
  }

  private create(obj: StoredObject): Handle {
    const name = StandInCloud.nameOf(obj);
    const existing = this.resources.get(name);
    if (existing) return { name, backend_id: existing.backendId };
    this.creates.set(name, (this.creates.get(name) ?? 0) + 1);
    const backendId = `sb-${(++this.seq).toString(16).padStart(8, '0')}`;
    this.resources.set(name, {
      name,
      kind: obj.kind,
      backendId,
      version: obj.version,
      readyAt: Date.now() + this.options.settleMs,
    });
    return { name, backend_id: backendId };
  }

  private update(obj: StoredObject): Handle {
    const r = this.resources.get(StandInCloud.nameOf(obj));
    if (!r) return this.create(obj);
    r.version = obj.version;
    return { name: r.name, backend_id: r.backendId };
  }

  private remove(obj: StoredObject): void {
    this.resources.delete(StandInCloud.nameOf(obj));
  }
}

function feedbackFor(kind: string, backendId: string): Record<string, unknown> | undefined {
  switch (kind) {
    case 'ControllerSite':
    case 'ControllerSlice':
      return { tenant_id: backendId };
    case 'ControllerUser':
      return { kuser_id: backendId };
    case 'ControllerNetwork':
      return { net_id: backendId };
    case 'ControllerImage':
      return { glance_image_id: backendId };
    case 'ControllerSitePrivilege':
    case 'ControllerSlicePrivilege':
      return { role_id: backendId };
    case 'Instance':
      return { instance_id: backendId, instance_name: backendId };
    case 'Port':
      return { port_id: backendId };
    default:
      return undefined;
  }
}
