/**
 * State and wire helpers of the OpenStack stand-in: the resources it holds, the knobs, and the
 * error bodies in each service's own shape, as observed on the real stack
 * (../shared/peers/openstack/API.md): Keystone `{"error":{code,message,title}}`, Nova
 * `{"<faultName>":{code,message}}`, Neutron `{"NeutronError":{type,message,detail}}`, Glance
 * `{"message","code":"404 Not Found","title"}` (HTML unless JSON is asked for).
 */
import { randomBytes, randomUUID } from 'node:crypto';

/** A JSON object. */
export type Json = Record<string, unknown>;

/** Knobs of the stand-in (all changeable at run time through `configure`). */
export interface OpenStackStandInKnobs {
  /** Added to every reply. */
  latencyMs?: number;
  /** Probability (0..1) that a call other than authentication answers 503 in the service's shape. */
  errorRate?: number;
  /** Probability (0..1) that a call stalls for `stallMs` before answering (client time-outs). */
  stallRate?: number;
  stallMs?: number;
  /** Time from server create to ACTIVE (the real stack: 4-8 s; 17 s with 5 boots at once). */
  buildMs?: number;
  /** Time from server delete (204) to 404 (the real stack: about 1.7 s). */
  deleteMs?: number;
  /** Token lifetime (Keystone default: a day here). */
  tokenTtlMs?: number;
  /** Schedulable RAM of the only compute host: a bigger flavor goes ERROR with "No valid host was found."
   *  (Nova's fake virt driver reports 800000 MB, times the 1.5 RAM allocation ratio.) */
  hostRamMb?: number;
  random?: () => number;
}

/** The knobs with their defaults applied. */
export type Knobs = Required<OpenStackStandInKnobs>;

/** Defaults: a fast but still asynchronous cloud. */
export const DEFAULT_KNOBS: Knobs = {
  latencyMs: 0,
  errorRate: 0,
  stallRate: 0,
  stallMs: 60_000,
  buildMs: 1_000,
  deleteMs: 300,
  tokenTtlMs: 24 * 3600_000,
  hostRamMb: 1_200_000,
  random: Math.random,
};

/** A reply the router sends. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

/** A parsed request. */
export interface Req {
  readonly method: string;
  /** Path below the service prefix, split on `/` (`['servers', 'abc']`). */
  readonly parts: string[];
  readonly query: URLSearchParams;
  readonly body: Json;
  readonly headers: Record<string, string | string[] | undefined>;
  /** The caller's token, validated (undefined only for authentication). */
  readonly auth?: TokenInfo;
}

/** What a token stands for. */
export interface TokenInfo {
  readonly userId: string;
  readonly projectId: string;
  readonly expiresAt: number;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  503: 'Service Unavailable',
};
const NOVA_FAULTS: Record<number, string> = {
  400: 'badRequest',
  403: 'forbidden',
  404: 'itemNotFound',
  409: 'conflictingRequest',
  500: 'computeFault',
  503: 'computeFault',
};

/** Keystone's error (also what keystonemiddleware answers on every service for a bad token). */
export const keystoneError = (status: number, message: string): Reply => ({
  status,
  body: { error: { code: status, message, title: TITLES[status] ?? 'Error' } },
});

/** Nova's error. */
export const novaError = (status: number, message: string): Reply => ({
  status,
  body: { [NOVA_FAULTS[status] ?? 'computeFault']: { code: status, message } },
});

/** Neutron's error. */
export const neutronError = (status: number, type: string, message: string): Reply => ({
  status,
  body: { NeutronError: { type, message, detail: '' } },
});

/** Glance's error (JSON form; the server renders HTML when JSON was not asked for). */
export const glanceError = (status: number, message: string): Reply => ({
  status,
  body: { message: `${message}<br /><br />\n\n\n`, code: `${status} ${TITLES[status] ?? ''}`, title: TITLES[status] },
});

/** A Keystone-style 32-hex id. */
export const hexId = (): string => randomBytes(16).toString('hex');
/** A Nova/Neutron/Glance-style UUID. */
export const uuid = (): string => randomUUID();
/** Neutron/Nova timestamp. */
export const stamp = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** Filter a list by query parameters that name attributes (Neutron and Keystone style). */
export function filterBy(items: Iterable<Json>, query: URLSearchParams, keys: readonly string[]): Json[] {
  const out: Json[] = [];
  for (const item of items) {
    let keep = true;
    for (const key of keys) {
      const want = query.getAll(key);
      if (want.length > 0 && !want.includes(String(item[key] ?? ''))) keep = false;
    }
    if (keep) out.push(item);
  }
  return out;
}

/** One map (id -> resource) per named collection. */
function tables<K extends string>(...names: K[]): Record<K, Map<string, Json>> {
  return Object.fromEntries(names.map((n) => [n, new Map<string, Json>()])) as Record<K, Map<string, Json>>;
}

/** Everything the stand-in holds. */
export class CloudState {
  readonly domains = new Map<string, Json>([
    ['default', { id: 'default', name: 'Default', description: 'The default domain', enabled: true }],
  ]);
  /** Keystone's projects, users and roles by id. */
  readonly identity = tables('projects', 'users', 'roles');
  /** User id -> password. */
  readonly passwords = new Map<string, string>();
  /** `project|user|role` */
  readonly grants = new Set<string>();
  readonly tokens = new Map<string, TokenInfo>();
  /** Nova's servers, flavors and quota sets by id. */
  readonly compute = tables('servers', 'flavors', 'quotas');
  /** Neutron's resources by id. */
  readonly network = tables('networks', 'subnets', 'ports', 'routers', 'securityGroups');
  /** Ports Nova made for a server (deleted with it; ports passed in survive). */
  readonly novaPorts = new Set<string>();
  /** Glance's images by id. */
  readonly images = new Map<string, Json>();
  /** Timers of asynchronous transitions (cleared on stop). */
  readonly timers = new Set<NodeJS.Timeout>();
  /** Requests served, by `METHOD service/first-path-part`. */
  readonly requests = new Map<string, number>();

  constructor(
    public knobs: Knobs,
    admin: { user: string; password: string; project: string },
  ) {
    for (const name of ['admin', 'member', 'reader']) {
      const id = hexId();
      this.identity.roles.set(id, { id, name, domain_id: null, description: null, options: { immutable: true } });
    }
    const projectId = hexId();
    this.identity.projects.set(projectId, this.newProject(projectId, admin.project, 'Bootstrap project'));
    const userId = hexId();
    this.identity.users.set(userId, {
      id: userId,
      name: admin.user,
      domain_id: 'default',
      enabled: true,
      password_expires_at: null,
      options: {},
    });
    this.passwords.set(userId, admin.password);
    this.grants.add(`${projectId}|${userId}|${this.roleId('admin')}`);
  }

  newProject(id: string, name: string, description = ''): Json {
    return {
      id,
      name,
      domain_id: 'default',
      description,
      enabled: true,
      parent_id: 'default',
      is_domain: false,
      tags: [],
      options: {},
    };
  }

  roleId(name: string): string {
    for (const r of this.identity.roles.values()) if (r.name === name) return String(r.id);
    throw new Error(`no role ${name}`);
  }

  /** Run `fn` after `ms` unless the stand-in stops first. */
  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** The project's `default` security group, made on first use as Neutron does. */
  defaultSecurityGroup(projectId: string): string {
    for (const sg of this.network.securityGroups.values())
      if (sg.project_id === projectId && sg.name === 'default') return String(sg.id);
    const id = uuid();
    this.network.securityGroups.set(id, {
      id,
      name: 'default',
      project_id: projectId,
      tenant_id: projectId,
      description: 'Default security group',
      security_group_rules: [],
    });
    return id;
  }
}
