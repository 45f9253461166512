/**
 * The local OpenStack stand-in: one in-process node:http server on 127.0.0.1 (free port) speaking
 * the Keystone v3 / Nova v2.1 / Neutron v2.0 / Glance v2 subset the OpenStack driver uses, with the
 * status codes, error shapes and asynchronous behaviour observed on a real stack
 * (../shared/peers/openstack/API.md). Services live under path prefixes of the one port and are
 * found through the token's service catalog, as on a real cloud. The contract suite
 * (test/drivers/openstack/contract.ts) runs unchanged against this and against the real OpenStack.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminLogin } from '../../../../shared/backends/openstack/session';
import { glance } from './glance';
import { type Catalog, keystone } from './keystone';
import { createPort, neutron } from './neutron';
import { nova } from './nova';
import {
  CloudState,
  DEFAULT_KNOBS,
  glanceError,
  type Json,
  keystoneError,
  neutronError,
  novaError,
  type OpenStackStandInKnobs,
  type Reply,
  type Req,
} from './state';

export type { OpenStackStandInKnobs } from './state';

/** Options of the stand-in. */
export interface OpenStackStandInOptions extends OpenStackStandInKnobs {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  readonly adminUser?: string;
  readonly adminPassword?: string;
  readonly adminProject?: string;
  readonly region?: string;
}

/** A running stand-in: what a Controller needs to point at it, plus test hooks. */
export interface OpenStackStandIn extends AdminLogin {
  /** The state (tests inspect it). */
  readonly cloud: CloudState;
  /** Change knobs at run time. */
  configure(knobs: OpenStackStandInKnobs): void;
  /** Invalidate every token, as an expiry or a Keystone key rotation would. */
  revokeTokens(): void;
  stop(): Promise<void>;
}

const SERVICES = ['identity', 'compute', 'network', 'image'] as const;
type Service = (typeof SERVICES)[number];
const PREFIX: Record<Service, string> = {
  identity: '/identity/v3',
  compute: '/compute/v2.1',
  network: '/network/v2.0',
  image: '/image/v2',
};

function serviceError(service: Service, status: number, message: string): Reply {
  if (service === 'compute') return novaError(status, message);
  if (service === 'network') return neutronError(status, 'ServiceUnavailable', message);
  if (service === 'image') return glanceError(status, message);
  return keystoneError(status, message);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Start the stand-in. */
export async function startOpenStackStandIn(options: OpenStackStandInOptions = {}): Promise<OpenStackStandIn> {
  const admin = {
    user: options.adminUser ?? 'admin',
    password: options.adminPassword ?? 's3cret',
    project: options.adminProject ?? 'admin',
  };
  const region = options.region ?? 'RegionOne';
  const knobs = { ...DEFAULT_KNOBS };
  const set = (k: OpenStackStandInKnobs) => {
    for (const [key, value] of Object.entries(k))
      if (value !== undefined) (knobs as Record<string, unknown>)[key] = value;
  };
  set(options);
  const cloud = new CloudState(knobs, admin);
  let base = '';
  let catalog: Catalog = [];

  const handle = async (req: IncomingMessage, raw: Buffer): Promise<{ reply: Reply; service?: Service }> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const service = SERVICES.find((s) => url.pathname === PREFIX[s] || url.pathname.startsWith(`${PREFIX[s]}/`));
    if (!service) return { reply: { status: 404, body: { error: 'unknown path' } } };
    const parts = url.pathname.slice(PREFIX[service].length).split('/').filter(Boolean);
    const method = (req.method ?? 'GET').toUpperCase();
    const isAuth = service === 'identity' && parts[0] === 'auth' && parts[1] === 'tokens' && method === 'POST';
    const key = `${method} ${service}/${parts[0] ?? ''}`;
    cloud.requests.set(key, (cloud.requests.get(key) ?? 0) + 1);
    if (knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, knobs.latencyMs));
    if (knobs.stallRate > 0 && knobs.random() < knobs.stallRate) await new Promise((r) => setTimeout(r, knobs.stallMs));
    let body: Json = {};
    const type = String(req.headers['content-type'] ?? '');
    if (raw.length > 0 && type.includes('json')) {
      try {
        body = JSON.parse(raw.toString('utf8')) as Json;
      } catch {
        return { reply: serviceError(service, 400, 'Malformed request body'), service };
      }
    }
    let auth: Req['auth'];
    if (!isAuth) {
      const info = cloud.tokens.get(String(req.headers['x-auth-token'] ?? ''));
      if (!info || info.expiresAt < Date.now())
        return { reply: keystoneError(401, 'The request you have made requires authentication.'), service };
      auth = info;
      if (knobs.errorRate > 0 && knobs.random() < knobs.errorRate)
        return {
          reply: serviceError(service, 503, 'The server is currently unavailable. Please try again at a later time.'),
          service,
        };
    }
    const r: Req = { method, parts, query: url.searchParams, body, headers: req.headers, auth };
    const projectId = auth?.projectId ?? '';
    switch (service) {
      case 'identity':
        return { reply: keystone(cloud, r, catalog, region), service };
      case 'compute':
        return {
          reply: nova(cloud, r, (networkId, project) =>
            createPort(cloud, { network_id: networkId }, project || projectId),
          ),
          service,
        };
      case 'network':
        return { reply: neutron(cloud, r), service };
      case 'image':
        return { reply: glance(cloud, r, raw), service };
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const raw = await readBody(req);
      let reply: Reply;
      let service: Service | undefined;
      try {
        ({ reply, service } = await handle(req, raw));
      } catch (err) {
        reply = { status: 500, body: { error: { code: 500, message: String(err), title: 'Internal Server Error' } } };
      }
      const headers: Record<string, string> = {
        'x-openstack-request-id': `req-${randomUUID()}`,
        ...(reply.headers ?? {}),
      };
      if (service === 'compute') headers['x-compute-request-id'] = headers['x-openstack-request-id'] as string;
      let text = '';
      if (reply.body !== undefined) {
        const wantsJson = String(req.headers.accept ?? '').includes('json');
        if (service === 'image' && reply.status >= 400 && !wantsJson) {
          const b = reply.body as Json;
          headers['content-type'] = 'text/html; charset=UTF-8';
          text = `<html>\n <head>\n  <title>${String(b.code)}</title>\n </head>\n <body>\n  <h1>${String(b.code)}</h1>\n  ${String(b.message)}\n </body>\n</html>`;
        } else {
          headers['content-type'] = 'application/json';
          text = JSON.stringify(reply.body);
        }
      }
      if (!res.destroyed) {
        res.writeHead(reply.status, headers);
        res.end(text);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  catalog = [
    { type: 'identity', name: 'keystone', url: `${base}${PREFIX.identity}/` },
    { type: 'compute', name: 'nova', url: `${base}${PREFIX.compute}` },
    { type: 'network', name: 'neutron', url: `${base}/network` },
    { type: 'image', name: 'glance', url: `${base}/image` },
  ];
  return {
    authUrl: `${base}${PREFIX.identity}`,
    adminUser: admin.user,
    adminPassword: admin.password,
    adminProject: admin.project,
    domain: 'default',
    region,
    cloud,
    configure: set,
    revokeTokens: () => cloud.tokens.clear(),
    async stop() {
      for (const t of cloud.timers) clearTimeout(t);
      cloud.timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
