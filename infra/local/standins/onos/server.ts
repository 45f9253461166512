/**
 * The local ONOS: an in-process node:http server on 127.0.0.1 speaking the subset of the ONOS
 * northbound REST API that XOS uses (../shared/peers/onos/API.md): Basic auth (realm karaf, onos/rocks
 * by default), the `{"code","message"}` error body, applications, network configuration (with the
 * 207 multi-status), component configuration, flows, devices, hosts, and the VTN app's
 * serviceNetworks. Knobs: latency, error rate, timeouts (requests left unanswered). Tests hand it a
 * schema check so every body it accepts and every reply it sends is held to ONOS's own JSON
 * schemas (violations are recorded for the test to assert on).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  type FlowEntry,
  type FlowRuleBody,
  type OnosApp,
  OnosError,
  OnosState,
  type OnosStateOptions,
  VTN_APP,
} from './state';

/** Schemas of ../shared/peers/onos/swagger/ the stand-in checks against (file names without .json). */
export type OnosSchemaName =
  | 'ApplicationPost'
  | 'Application'
  | 'Applications'
  | 'FlowsPost'
  | 'FlowsBatchPost'
  | 'FlowEntries'
  | 'NetCfgGet'
  | 'DeviceGet'
  | 'DevicesGet'
  | 'DeviceGetPorts'
  | 'HostPut'
  | 'Host'
  | 'Hosts';

/** Checks a value against an ONOS schema; returns the violation, or undefined. */
export type OnosSchemaCheck = (schema: OnosSchemaName, value: unknown) => string | undefined;

/** Run-time knobs. */
export interface OnosKnobs {
  /** Added to every request, in ms. */
  latencyMs?: number;
  /** Probability (0..1) of answering 503 (ServiceNotFoundException) instead. */
  errorRate?: number;
  /** Probability (0..1) of never answering (the client's timeout fires). */
  timeoutRate?: number;
}

/** Options of the stand-in. */
export interface OnosStandInOptions extends OnosKnobs, OnosStateOptions {
  /** Accepted users (default: onos/rocks, karaf/karaf). */
  readonly users?: Readonly<Record<string, string>>;
  /** Test mode: check accepted bodies and sent replies against the schemas, recording violations. */
  readonly check?: OnosSchemaCheck;
  readonly random?: () => number;
}

/** One served request, for tests. */
export interface OnosRequestRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
}

/** A running stand-in. */
export interface OnosStandIn {
  /** Base URL (`http://127.0.0.1:<port>`); the REST API is under `/onos/v1/`. */
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly state: OnosState;
  /** Every request served, in order. */
  readonly requests: OnosRequestRecord[];
  /** Schema violations seen in test mode (requests and replies). */
  readonly violations: string[];
  configure(knobs: OnosKnobs): void;
  stop(): Promise<void>;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const json = (status: number, body?: unknown, headers?: Record<string, string>): Reply => ({ status, body, headers });

/** Start the stand-in on a free loopback port. */
export async function startOnosStandIn(options: OnosStandInOptions = {}): Promise<OnosStandIn> {
  const users = options.users ?? { onos: 'rocks', karaf: 'karaf' };
  const [username, password] = Object.entries(users)[0] ?? ['onos', 'rocks'];
  const state = new OnosState(options);
  const knobs: Required<OnosKnobs> = {
    latencyMs: options.latencyMs ?? 0,
    errorRate: options.errorRate ?? 0,
    timeoutRate: options.timeoutRate ?? 0,
  };
  const random = options.random ?? Math.random;
  const requests: OnosRequestRecord[] = [];
  const violations: string[] = [];
  const sockets = new Set<Socket>();
  let base = '';

  const checkReply = (schema: OnosSchemaName, value: unknown, where: string) => {
    const v = options.check?.(schema, value);
    if (v) violations.push(`reply of ${where} vs ${schema}: ${v}`);
  };
  // Checked once ONOS's own rules accepted the body: a body ONOS takes must match ONOS's schema.
  const checkRequest = (schema: OnosSchemaName, value: unknown, where: string) => {
    const v = options.check?.(schema, value);
    if (v) violations.push(`request ${where} vs ${schema}: ${v}`);
  };

  const route = (method: string, url: URL, body: unknown): Reply => {
    const p = url.pathname.replace(/\/+$/, '');
    const where = `${method} ${p}`;
    const seg = p.split('/').slice(1).map(decodeURIComponent);
    if (seg[0] !== 'onos') throw new OnosError(404, 'Not Found');
    if (seg[1] === 'cordvtn') {
      // An app's REST resources exist only while the app is active (else Jersey's own 404).
      if (!state.isActive(VTN_APP)) throw notFound();
      return vtn(method, seg.slice(2), body);
    }
    if (seg[1] !== 'v1') throw notFound();
    const [res, ...rest] = seg.slice(2);
    switch (res) {
      case 'applications':
        return applications(method, rest, body, url, where);
      case 'network':
        if (rest[0] !== 'configuration') throw notFound();
        return netcfg(method, rest.slice(1), body, where);
      case 'configuration':
        return componentConfig(method, rest, body);
      case 'flows':
        return flows(method, rest, body, url, where);
      case 'devices':
        return devices(method, rest, body, where);
      case 'hosts':
        return hosts(method, rest, body, where);
      default:
        throw notFound();
    }
  };

  const appReply = (app: OnosApp, where: string) => {
    const body = encodeApp(app);
    checkReply('Application', body, where);
    return json(200, body);
  };

  const applications = (method: string, rest: string[], body: unknown, url: URL, where: string): Reply => {
    const [name, sub] = rest;
    if (name === undefined) {
      if (method === 'GET') {
        const out = { applications: [...state.apps.values()].map(encodeApp) };
        checkReply('Applications', out, where);
        return json(200, out);
      }
      if (method === 'POST') {
        const b = asObject(body);
        if (typeof b.url !== 'string' || b.url === '') throw new OnosError(400, 'Invalid application URL');
        const activate = b.activate === true || b.activate === 'true' || url.searchParams.get('activate') === 'true';
        const app = state.installFromUrl(b.url, activate);
        checkRequest('ApplicationPost', b, where);
        return appReply(app, where);
      }
      throw notAllowed();
    }
    if (name === 'ids' && method === 'GET') {
      if (sub === 'entry') {
        const q = url.searchParams.get('name') ?? url.searchParams.get('id');
        const hit = [...state.appIds].find(([n, id]) => n === q || String(id) === q);
        if (!hit) throw new OnosError(404, `Application ID is not found: ${q}`);
        return json(200, { id: hit[1], name: hit[0] });
      }
      return json(200, { applicationIds: [...state.appIds].map(([n, id]) => ({ id, name: n })) });
    }
    if (sub === undefined) {
      if (method === 'GET') return appReply(state.app(name), where);
      if (method === 'DELETE') {
        state.uninstall(name);
        return json(204);
      }
      throw notAllowed();
    }
    if (sub === 'active') {
      if (method === 'POST') return appReply(state.activate(name), where);
      if (method === 'DELETE') {
        state.deactivate(name);
        return json(204);
      }
    }
    if (sub === 'health' && method === 'GET') {
      const app = state.app(name);
      return json(200, { message: app.state === 'ACTIVE' ? 'ready' : 'pending' });
    }
    if (sub === 'register' && method === 'POST') return json(200, { id: state.registerAppId(name), name });
    throw notFound();
  };

  const netcfg = (method: string, path: string[], body: unknown, where: string): Reply => {
    if (path.length > 3) throw notFound();
    const [sck, sk, ck] = path;
    if (method === 'GET') {
      const out = state.readConfig(sck, sk, ck);
      if (sck === undefined) checkReply('NetCfgGet', out, where);
      return json(200, out);
    }
    if (method === 'POST') {
      const errors = state.applyConfig(path, body);
      // Some parts failed: 207 with every message; the valid parts were applied anyway.
      return errors.length > 0 ? json(207, { code: 207, message: errors }) : json(200);
    }
    if (method === 'DELETE') {
      state.removeConfig([sck, sk, ck].filter((x): x is string => x !== undefined));
      return json(204);
    }
    throw notAllowed();
  };

  const componentConfig = (method: string, rest: string[], body: unknown): Reply => {
    const [component, attribute] = rest;
    if (component === undefined) {
      if (method !== 'GET') throw notAllowed();
      const out: Record<string, unknown> = {};
      for (const c of state.components.keys()) Object.assign(out, state.readComponent(c));
      return json(200, out);
    }
    if (method === 'GET') {
      const all = state.readComponent(component);
      if (attribute === undefined) return json(200, all);
      const prop = all[component]?.[attribute];
      if (!prop) throw new OnosError(404, 'No such property');
      return json(200, { [component]: { [attribute]: prop } });
    }
    if (method === 'POST') {
      const errors = state.setComponent(component, body);
      return errors.length > 0 ? json(207, { code: 207, message: errors }) : json(200);
    }
    if (method === 'DELETE') {
      state.resetComponent(component, body);
      return json(204);
    }
    throw notAllowed();
  };

  const flowReply = (list: FlowEntry[], where: string) => {
    const out = { flows: list.map(encodeFlow) };
    checkReply('FlowEntries', out, where);
    return json(200, out);
  };

  const flows = (method: string, rest: string[], body: unknown, url: URL, where: string): Reply => {
    const appParam = url.searchParams.get('appId') ?? undefined;
    const [first, second] = rest;
    if (first === undefined) {
      if (method === 'GET') return flowReply([...state.flows.values()], where);
      if (method === 'POST') {
        const b = asObject(body);
        if (!Array.isArray(b.flows)) throw new OnosError(400, 'Flows array was not specified');
        const added = b.flows.map((f) => state.addFlow(asObject(f) as FlowRuleBody, undefined, appParam));
        checkRequest('FlowsBatchPost', b, where);
        return json(200, { flows: added.map((f) => ({ deviceId: f.deviceId, flowId: f.id })) });
      }
      if (method === 'DELETE') {
        const list = asObject(body).flows;
        if (!Array.isArray(list)) throw new OnosError(400, 'Flows array was not specified');
        for (const f of list) {
          const { deviceId, flowId } = asObject(f);
          if (!state.flows.has(String(flowId))) throw new OnosError(404, 'Flow is not found');
          state.removeFlow(String(deviceId), String(flowId));
        }
        return json(204);
      }
      throw notAllowed();
    }
    if (first === 'pending' && method === 'GET')
      return flowReply(
        [...state.flows.values()].filter((f) => f.state === 'PENDING_ADD'),
        where,
      );
    if (first === 'table' && second !== undefined && method === 'GET')
      return flowReply(
        [...state.flows.values()].filter((f) => String(f.tableId) === second),
        where,
      );
    if (first === 'application' && second !== undefined) {
      if (!state.appIds.has(second)) throw new OnosError(404, 'Application Id is not found');
      const mine = [...state.flows.values()].filter((f) => f.appId === second);
      if (method === 'GET') return flowReply(mine, where);
      if (method === 'DELETE') {
        for (const f of mine) state.flows.delete(f.id);
        return json(204);
      }
      throw notAllowed();
    }
    const deviceId = first;
    if (second === undefined) {
      if (method === 'GET') return flowReply(state.flowsOf(deviceId), where);
      if (method === 'POST') {
        const b = asObject(body);
        const f = state.addFlow(b as FlowRuleBody, deviceId, appParam);
        checkRequest('FlowsPost', { ...b, deviceId: b.deviceId ?? deviceId }, where);
        return json(201, undefined, { location: `${base}/onos/v1/flows/${deviceId}/${f.id}` });
      }
      throw notAllowed();
    }
    if (method === 'GET') {
      const list = state.flowsOf(deviceId).filter((f) => f.id === second);
      return flowReply(list, where);
    }
    if (method === 'DELETE') {
      state.removeFlow(deviceId, second);
      return json(204);
    }
    throw notAllowed();
  };

  const devices = (method: string, rest: string[], body: unknown, where: string): Reply => {
    const [id, sub, port] = rest;
    if (id === undefined && method === 'GET') {
      const out = { devices: state.devices.map(encodeDevice) };
      checkReply('DevicesGet', out, where);
      return json(200, out);
    }
    if (id === 'ports' && sub === undefined && method === 'GET')
      return json(200, { ports: state.devices.flatMap((d) => encodePorts(d.id, d.ports)) });
    const dev = state.devices.find((d) => d.id === id);
    if (!dev) throw new OnosError(404, 'Device is not found');
    if (sub === undefined && method === 'GET') {
      const out = encodeDevice(dev);
      checkReply('DeviceGet', out, where);
      return json(200, out);
    }
    if (sub === undefined && method === 'DELETE') {
      state.devices.splice(state.devices.indexOf(dev), 1);
      return json(200, encodeDevice(dev));
    }
    if (sub === 'ports' && method === 'GET') {
      const out = { ...encodeDevice(dev), ports: encodePorts(dev.id, dev.ports) };
      checkReply('DeviceGetPorts', out, where);
      return json(200, out);
    }
    if (sub === 'portstate' && port !== undefined && method === 'POST') {
      if (!(Number(port) >= 1 && Number(port) <= dev.ports)) throw new OnosError(404, 'Port is not found');
      if (typeof asObject(body).enabled !== 'boolean') throw new OnosError(400, 'Invalid JSON data');
      return json(200);
    }
    throw notFound();
  };

  const hosts = (method: string, rest: string[], body: unknown, where: string): Reply => {
    if (rest.length === 0) {
      if (method === 'GET') {
        const out = { hosts: [...state.hosts.values()] };
        checkReply('Hosts', out, where);
        return json(200, out);
      }
      if (method === 'POST') {
        const b = asObject(body);
        for (const f of ['mac', 'vlan', 'ipAddresses', 'locations'])
          if (b[f] === undefined) throw new OnosError(400, `${f} member is required in Host`);
        checkRequest('HostPut', b, where);
        const mac = String(b.mac).toUpperCase();
        const vlan = String(b.vlan) === '-1' ? 'None' : String(b.vlan);
        const host = {
          id: `${mac}/${vlan}`,
          mac,
          vlan,
          innerVlan: 'None',
          outerTpid: '0x0000',
          configured: true,
          suspended: false,
          ipAddresses: b.ipAddresses,
          locations: b.locations,
          auxLocations: b.auxLocations ?? [],
          annotations: b.annotations ?? {},
        };
        state.hosts.set(host.id, host);
        return json(201, undefined, { location: `${base}/onos/v1/hosts/${mac}/${String(b.vlan)}` });
      }
      throw notAllowed();
    }
    const [a, b] = rest;
    const key = b === undefined ? String(a) : `${String(a).toUpperCase()}/${b === '-1' ? 'None' : b}`;
    if (method === 'GET') {
      const host = state.hosts.get(key);
      if (!host) throw new OnosError(404, 'Host is not found');
      checkReply('Host', host, where);
      return json(200, host);
    }
    if (method === 'DELETE') {
      state.hosts.delete(key);
      return json(204);
    }
    throw notAllowed();
  };

  // VTN (org.opencord.vtn, docs/xos_vtn.md): /onos/cordvtn/serviceNetworks[/id], bodies {"ServiceNetwork":{...}}.
  const vtn = (method: string, rest: string[], body: unknown): Reply => {
    const [res, id] = rest;
    if (res !== 'serviceNetworks') throw notFound();
    const nets = state.serviceNetworks;
    if (id === undefined) {
      if (method === 'GET') return json(200, { ServiceNetworks: [...nets.values()] });
      if (method === 'POST') {
        const net = serviceNetworkOf(body);
        if (nets.has(String(net.id))) throw new OnosError(409, `Service network ${String(net.id)} already exists`);
        nets.set(String(net.id), net);
        return json(201, { ServiceNetwork: net });
      }
      throw notAllowed();
    }
    const existing = nets.get(id);
    if (!existing) throw new OnosError(404, `Service network ${id} not found`);
    if (method === 'GET') return json(200, { ServiceNetwork: existing });
    if (method === 'PUT') {
      const net = serviceNetworkOf(body);
      if (String(net.id) !== id) throw new OnosError(400, 'Service network id does not match the path');
      nets.set(id, net);
      return json(200, { ServiceNetwork: net });
    }
    if (method === 'DELETE') {
      nets.delete(id);
      return json(204);
    }
    throw notAllowed();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    if (knobs.latencyMs > 0) await new Promise((r) => setTimeout(r, knobs.latencyMs));
    if (knobs.timeoutRate > 0 && random() < knobs.timeoutRate) return; // left unanswered
    let reply: Reply;
    if (!authorized(req.headers.authorization, users)) {
      res.writeHead(401, { 'content-type': 'text/html', 'www-authenticate': 'Basic realm="karaf"' });
      res.end('<html><body><h2>HTTP ERROR 401 Unauthorized</h2></body></html>');
      requests.push({ method, path: url.pathname, status: 401 });
      return;
    }
    try {
      if (knobs.errorRate > 0 && random() < knobs.errorRate)
        throw new OnosError(503, 'ONOS stand-in: injected failure (service unavailable)');
      let body: unknown;
      if (text.length > 0) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new OnosError(400, 'Unable to parse JSON request body');
        }
      }
      reply = route(method, url, body);
    } catch (err) {
      if (err instanceof NotFound) {
        // Jersey's own 404 for an unknown path: not the JSON error shape.
        requests.push({ method, path: url.pathname, status: 404 });
        res.writeHead(404, { 'content-type': 'text/html' });
        res.end('<html><body><h2>HTTP ERROR 404 Not Found</h2></body></html>');
        return;
      }
      const e =
        err instanceof OnosError ? err : new OnosError(500, err instanceof Error ? err.message : 'Unknown error');
      reply = json(e.status, { code: e.status, message: e.messages ?? (e.message || 'Unknown error') });
    }
    requests.push({ method, path: url.pathname, status: reply.status });
    const headers: Record<string, string> = { ...(reply.headers ?? {}) };
    if (reply.body !== undefined) headers['content-type'] = 'application/json';
    res.writeHead(reply.status, headers);
    res.end(reply.body === undefined ? undefined : JSON.stringify(reply.body));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    username,
    password,
    state,
    requests,
    violations,
    configure(k) {
      for (const [key, value] of Object.entries(k)) if (value !== undefined) knobs[key as keyof OnosKnobs] = value;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

class NotFound extends Error {}
const notFound = () => new NotFound('Not Found');
const notAllowed = () => new OnosError(405, 'HTTP 405 Method Not Allowed');

function asObject(v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new OnosError(400, 'Invalid JSON: expected an object');
  return v as Record<string, unknown>;
}

function serviceNetworkOf(body: unknown): Record<string, unknown> {
  const net = asObject(asObject(body).ServiceNetwork);
  if (typeof net.id !== 'string' || net.id === '') throw new OnosError(400, 'id is required in ServiceNetwork');
  if (typeof net.type !== 'string') throw new OnosError(400, 'type is required in ServiceNetwork');
  return { providers: [], ...structuredClone(net) };
}

function authorized(header: string | undefined, users: Readonly<Record<string, string>>): boolean {
  if (!header?.startsWith('Basic ')) return false;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return false;
  const user = decoded.slice(0, i);
  return Object.hasOwn(users, user) && users[user] === decoded.slice(i + 1);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** ApplicationCodec.encode: the stored app holds exactly the codec's fields. */
function encodeApp(a: OnosApp): Record<string, unknown> {
  return structuredClone(a) as unknown as Record<string, unknown>;
}

/** FlowEntryCodec.encode. */
function encodeFlow(f: FlowEntry): Record<string, unknown> {
  return {
    id: f.id,
    appId: f.appId,
    priority: f.priority,
    timeout: f.timeout,
    isPermanent: f.isPermanent,
    deviceId: f.deviceId,
    tableId: f.tableId,
    tableName: String(f.tableId),
    groupId: 0,
    state: f.state,
    life: Math.floor((Date.now() - f.created) / 1000),
    liveType: 'UNKNOWN',
    lastSeen: Date.now(),
    packets: 0,
    bytes: 0,
    treatment: structuredClone(f.treatment),
    selector: structuredClone(f.selector),
  };
}

function encodeDevice(d: { id: string }): Record<string, unknown> {
  return {
    id: d.id,
    type: 'SWITCH',
    available: true,
    role: 'MASTER',
    mfr: 'Nicira, Inc.',
    hw: 'Open vSwitch',
    sw: '2.13.0',
    serial: 'None',
    driver: 'ovs',
    chassisId: d.id.replace(/^of:0*/, '') || '0',
    lastUpdate: String(Date.now()),
    humanReadableLastUpdate: 'connected',
    annotations: { managementAddress: '127.0.0.1', protocol: 'OF_13', channelId: '127.0.0.1:34689' },
  };
}

function encodePorts(deviceId: string, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    element: deviceId,
    port: String(i + 1),
    isEnabled: true,
    type: 'copper',
    portSpeed: 10000,
    annotations: { portName: `eth${i + 1}` },
  }));
}
