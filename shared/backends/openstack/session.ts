/**
 * One controller's OpenStack session: Keystone v3 password authentication, tokens cached per scope
 * until shortly before they expire, service endpoints from the token's catalog (interface and
 * region chosen by the controller), and one re-authentication on a 401 (an expired or revoked
 * token), after which the failure is classified like any other. Plain fetch; no SDK.
 */
import { backendFailure } from '../failures';
import { type HttpReply, httpRequest } from '../http';

/** The services the driver calls, by catalog type. */
export type ServiceType = 'identity' | 'compute' | 'network' | 'image';

/** How to reach and authenticate against one OpenStack. */
export interface SessionConfig {
  /** Keystone URL, with or without the `/v3` suffix. */
  readonly authUrl: string;
  readonly username: string;
  readonly password: string;
  /** The administrative project the default token is scoped to. */
  readonly project: string;
  /** Domain of the user and project (name or id); `default` when unset. */
  readonly domain?: string;
  /** Region of the endpoints; any region when unset. */
  readonly region?: string;
  /** Catalog interface; `public` by default. */
  readonly endpointInterface?: 'public' | 'internal' | 'admin';
  /** Per-request timeout; DEFAULT_TIMEOUT_MS when unset. */
  readonly timeoutMs?: number;
  /** Renew a token this long before it expires. */
  readonly renewBeforeMs?: number;
}

interface CatalogEntry {
  readonly type: string;
  readonly endpoints: ReadonlyArray<{ interface: string; region_id?: string; region?: string; url: string }>;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
  readonly catalog: readonly CatalogEntry[];
  /** Id of the authenticated user. */
  readonly userId: string;
}

/** Options of one API call. */
export interface CallOptions {
  readonly body?: unknown;
  /** Statuses that are not failures; the default is any 2xx. */
  readonly ok?: readonly number[];
  /** Scope the token to this project (creating servers in a slice's project). */
  readonly projectId?: string;
  readonly headers?: Record<string, string>;
  /** Binary payload (Glance image data), sent as application/octet-stream instead of `body`. */
  readonly bytes?: Uint8Array;
  /** Per-call timeout (uploads), else the session's. */
  readonly timeoutMs?: number;
  /** What the driver is doing, for error messages. */
  readonly action: string;
}

/**
 * Default per-request timeout. Generous on purpose: most creates are not idempotent in OpenStack
 * (Neutron and Glance names are not unique), so a request abandoned while the service is still
 * working risks a duplicate on retry. OpenStack services on a loaded host answer in tens of seconds.
 */
export const DEFAULT_TIMEOUT_MS = 120_000;

/** The path each service's catalog URL must end in (Neutron and Glance list their root). */
const API_ROOT: Record<ServiceType, RegExp> = {
  identity: /\/v3$/,
  compute: /\/v2(\.1)?(\/[0-9a-f]{32})?$/,
  network: /\/v2\.0$/,
  image: /\/v2$/,
};
const API_SUFFIX: Record<ServiceType, string> = {
  identity: '/v3',
  compute: '/v2.1',
  network: '/v2.0',
  image: '/v2',
};

/** The API base of a service from its catalog URL. */
export function apiBase(type: ServiceType, url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return API_ROOT[type].test(trimmed) ? trimmed : `${trimmed}${API_SUFFIX[type]}`;
}

/** A Keystone-authenticated session (one per controller version). */
export class OpenStackSession {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();
  /** Tokens obtained so far (tests and benchmarks read it to check caching). */
  authentications = 0;

  constructor(readonly config: SessionConfig) {}

  /** The domain as Keystone expects it in a scope (`default` is an id; others are taken as names). */
  get domainRef(): { id: string } | { name: string } {
    const domain = this.config.domain ?? 'default';
    return domain === 'default' ? { id: 'default' } : { name: domain };
  }

  private identityBase(): string {
    return apiBase('identity', this.config.authUrl);
  }

  /** A valid token for a scope (the admin project unless `projectId`), from the cache when fresh. */
  async token(projectId?: string): Promise<CachedToken> {
    const key = projectId ?? '';
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt - (this.config.renewBeforeMs ?? 60_000) > Date.now()) return cached;
    let inflight = this.pending.get(key);
    if (!inflight) {
      inflight = this.authenticate(projectId).finally(() => this.pending.delete(key));
      this.pending.set(key, inflight);
    }
    return inflight;
  }

  /** Forget cached tokens (after a 401). */
  invalidate(projectId?: string): void {
    this.tokens.delete(projectId ?? '');
  }

  private async authenticate(projectId?: string): Promise<CachedToken> {
    const scope = projectId
      ? { project: { id: projectId } }
      : { project: { name: this.config.project, domain: this.domainRef } };
    const body = {
      auth: {
        identity: {
          methods: ['password'],
          password: {
            user: { name: this.config.username, domain: this.domainRef, password: this.config.password },
          },
        },
        scope,
      },
    };
    const action = `authenticate ${this.config.username} to Keystone${projectId ? ` for project ${projectId}` : ''}`;
    const reply = await httpRequest('openstack', `${this.identityBase()}/auth/tokens`, {
      method: 'POST',
      body,
      action,
      timeoutMs: this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    });
    const token = reply.headers.get('x-subject-token');
    if (reply.status !== 201 || !token)
      throw backendFailure('openstack', { action, status: reply.status, body: reply.body, authentication: true });
    this.authentications++;
    const t =
      (reply.body as { token?: { expires_at?: string; catalog?: CatalogEntry[]; user?: { id?: string } } }).token ?? {};
    const expiresAt = t.expires_at ? Date.parse(t.expires_at) : Date.now() + 3600_000;
    const cached: CachedToken = { token, expiresAt, catalog: t.catalog ?? [], userId: String(t.user?.id ?? '') };
    this.tokens.set(projectId ?? '', cached);
    return cached;
  }

  /** The API base URL of a service, from the catalog (identity falls back to the auth URL). */
  async endpoint(type: ServiceType): Promise<string> {
    const { catalog } = await this.token();
    const wanted = this.config.endpointInterface ?? 'public';
    const region = this.config.region;
    const entry = catalog.find((c) => c.type === type);
    const endpoint = entry?.endpoints.find(
      (e) => e.interface === wanted && (!region || (e.region_id ?? e.region) === region),
    );
    if (!endpoint) {
      if (type === 'identity') return this.identityBase();
      throw backendFailure('openstack', {
        action: `find the ${wanted} ${type} endpoint${region ? ` in region ${region}` : ''} in the Keystone catalog`,
        status: 404,
      });
    }
    return apiBase(type, endpoint.url);
  }

  /** Call a service; a 401 re-authenticates once; other unexpected statuses throw the classified failure. */
  async call(type: ServiceType, method: string, path: string, options: CallOptions): Promise<HttpReply> {
    const base = await this.endpoint(type);
    let reply = await this.send(base, method, path, options);
    if (reply.status === 401) {
      this.invalidate(options.projectId);
      reply = await this.send(base, method, path, options);
    }
    const ok = options.ok ?? [];
    if (!(ok.includes(reply.status) || (reply.status >= 200 && reply.status < 300)))
      throw backendFailure('openstack', { action: options.action, status: reply.status, body: reply.body });
    return reply;
  }

  private async send(base: string, method: string, path: string, options: CallOptions): Promise<HttpReply> {
    const { token } = await this.token(options.projectId);
    if (options.bytes) return this.upload(`${base}${path}`, method, token, options);
    return httpRequest('openstack', `${base}${path}`, {
      method,
      body: options.body,
      action: options.action,
      timeoutMs: options.timeoutMs ?? this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      headers: { 'x-auth-token': token, ...(options.headers ?? {}) },
    });
  }

  /** A binary request (http.ts speaks JSON and text only). */
  private async upload(url: string, method: string, token: string, options: CallOptions): Promise<HttpReply> {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream', accept: 'application/json' },
        body: options.bytes,
        signal: AbortSignal.timeout(options.timeoutMs ?? this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      });
    } catch {
      throw backendFailure('openstack', {
        action: `${options.action} (could not connect or timed out)`,
        network: true,
      });
    }
    const text = await res.text();
    let body: unknown = text || undefined;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // Glance answers errors in HTML unless asked for JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body };
  }
}

/** An OpenStack's admin login as a controller, a stand-in or a test target describes it. */
export interface AdminLogin {
  readonly authUrl: string;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly adminProject: string;
  readonly domain: string;
  readonly region: string;
}

/** A session as that admin. */
export function adminSession(login: AdminLogin, timeoutMs?: number): OpenStackSession {
  return new OpenStackSession({
    authUrl: login.authUrl,
    username: login.adminUser,
    password: login.adminPassword,
    project: login.adminProject,
    domain: login.domain,
    region: login.region,
    timeoutMs,
  });
}
