/**
 * Which XOS objects mean what to ONOS (pure; docs/drivers.md "ONOS" has the table):
 * - a ServiceInstance whose `service_specific_attribute.onos_app` is `{app_id, url?, version?,
 *   dependencies?}` is an ONOS application (the original ONOSApp): with `url` installed from there
 *   at `version`, without it a bundled app that is only activated;
 * - a ServiceInstanceAttribute / ServiceAttribute whose name is an ONOS REST path (`/onos/...`) is
 *   a configuration push: POST the value (JSON) to the path, DELETE it on removal;
 * - a Network whose template has controller_kind onos is a VTN service network;
 * - a ServiceDependency between services with such networks is a VTN provider link
 *   (connect_method private) or the VN-gateway flow rules (connect_method public, the provider
 *   service naming its gateway in `service_specific_attribute.vn_gateway`).
 */
import { createHash } from 'node:crypto';
import { TerminalBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';

/** The ONOS application named by a ServiceInstance. */
export interface AppSpec {
  readonly app_id: string;
  readonly url?: string;
  readonly version?: string;
  /** Apps that must be ACTIVE first (the original's comma list). */
  readonly dependencies: readonly string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** The app a ServiceInstance stands for, or undefined when it is not an ONOS app. */
export function appSpecOf(si: StoredObject): AppSpec | undefined {
  const ssa = si.service_specific_attribute;
  if (!isObject(ssa) || ssa.onos_app === undefined) return undefined;
  const app = ssa.onos_app;
  const bad = (why: string) => new TerminalBackendError(`ServiceInstance ${si.id}: onos_app ${why}`);
  if (!isObject(app)) throw bad('must be an object {app_id, url?, version?, dependencies?}');
  const appId = text(app.app_id);
  if (!appId) throw bad('needs app_id');
  const url = text(app.url);
  const version = text(app.version);
  // The original model enforced both together for remote apps (models.py).
  if (url && !version) throw bad('with a url needs the version that url holds');
  const deps = app.dependencies;
  const dependencies = Array.isArray(deps)
    ? deps.map(String)
    : typeof deps === 'string'
      ? deps.split(',').map((d) => d.trim())
      : [];
  return { app_id: appId, url, version, dependencies: dependencies.filter((d) => d !== '') };
}

/** Where an attribute's configuration goes. */
export type ConfigTarget =
  | { readonly kind: 'netcfg'; readonly path: string; readonly subject: readonly string[] }
  | { readonly kind: 'component'; readonly path: string; readonly component: string }
  | { readonly kind: 'other'; readonly path: string };

/** Whether an attribute name is an ONOS REST path (anything else is not ONOS configuration). */
export const isOnosPath = (name: unknown): name is string => typeof name === 'string' && /^\/?onos\//.test(name);

/** Classify an attribute name; the query (e.g. `?preset=true`) stays on the POST path only. */
export function configTarget(name: string): ConfigTarget {
  const path = name.startsWith('/') ? name : `/${name}`;
  const bare = (path.split('?')[0] ?? '').replace(/\/+$/, '');
  const netcfg = /^\/onos\/v1\/network\/configuration(\/.*)?$/.exec(bare);
  if (netcfg) {
    const subject = (netcfg[1] ?? '').split('/').filter((s) => s !== '');
    return { kind: 'netcfg', path, subject };
  }
  const comp = /^\/onos\/v1\/configuration\/([^/]+)$/.exec(bare);
  if (comp) return { kind: 'component', path, component: decodeURIComponent(comp[1] as string) };
  return { kind: 'other', path };
}

/** The attribute's value as JSON. */
export function configValue(attr: StoredObject): unknown {
  try {
    return JSON.parse(String(attr.value ?? ''));
  } catch {
    throw new TerminalBackendError(`${attr.kind} ${attr.id} (${String(attr.name)}): the value is not JSON`);
  }
}

/** A short digest of what was pushed (paths with no readable state are observed by it). */
export const digestOf = (path: string, value: unknown): string =>
  createHash('sha256')
    .update(`${path}\n${JSON.stringify(value)}`)
    .digest('hex')
    .slice(0, 16);

/** Deep equality of JSON values (object key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameJson(a[k], b[k]));
  }
  return a === b;
}

/**
 * Whether ONOS holds `desired` below a netcfg path at `depth` (0 = the tree, 1 = a subject class,
 * 2 = a subject, 3 = one config). Above the config level ONOS merges, so other subjects or
 * configs may be present; a config itself is replaced whole, so it must be equal.
 */
export function netcfgHolds(desired: unknown, actual: unknown, depth: number): boolean {
  if (depth >= 3) return sameJson(desired, actual);
  if (!isObject(desired) || !isObject(actual)) return false;
  return Object.entries(desired).every(([k, v]) => k in actual && netcfgHolds(v, actual[k], depth + 1));
}

/** Whether a component's properties (GET /configuration/{c}) hold the desired values (read as text). */
export function componentHolds(desired: unknown, actual: unknown, component: string): boolean {
  if (!isObject(desired) || !isObject(actual)) return false;
  const props = actual[component];
  if (!isObject(props)) return false;
  return Object.entries(desired).every(([k, v]) => {
    const p = props[k];
    const want = typeof v === 'string' ? v : JSON.stringify(v);
    return isObject(p) && String(p.value) === want;
  });
}

/** A VTN ServiceNetwork (docs/xos_vtn.md): the fields XOS owns; `providers` belong to dependencies. */
export interface ServiceNetworkFields {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly subnet?: string;
  readonly service_ip?: string;
}

/** The service network of an ONOS-managed XOS Network (its id is the XOS network id). */
export function serviceNetworkOf(network: StoredObject, template: StoredObject): ServiceNetworkFields {
  const subnet = text(network.subnet);
  return {
    id: network.id,
    name: String(network.name),
    type: text(template.vtn_kind) ?? 'PRIVATE',
    ...(subnet ? { subnet } : {}),
    ...(subnet && gatewayOf(subnet) ? { service_ip: gatewayOf(subnet) } : {}),
  };
}

/** The first host address of an IPv4 subnet (XOS's gateway convention), or undefined. */
export function gatewayOf(cidr: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m) return undefined;
  const bits = Number(m[5]);
  if (bits > 30) return undefined;
  const ip = m.slice(1, 5).reduce((acc, o) => acc * 256 + Number(o), 0);
  const net = bits === 0 ? 0 : ip - (ip % 2 ** (32 - bits));
  const gw = net + 1;
  return [24, 16, 8, 0].map((s) => Math.floor(gw / 2 ** s) % 256).join('.');
}

/** Whether VTN's copy of a network matches the fields XOS owns. */
export function serviceNetworkMatches(want: ServiceNetworkFields, have: Record<string, unknown>): boolean {
  return (
    have.name === want.name &&
    have.type === want.type &&
    (have.subnet ?? undefined) === want.subnet &&
    (have.service_ip ?? undefined) === want.service_ip
  );
}

/** A provider link in a ServiceNetwork. */
export interface ProviderLink {
  readonly id: string;
  readonly bidirectional: boolean;
}

/** The VN gateway a provider service declares: the switch and ports its traffic leaves and enters by. */
export interface VnGateway {
  readonly device_id: string;
  readonly uplink_port: string;
  readonly downlink_port?: string;
  readonly priority: number;
}

/** The app id XOS's flow rules are posted under. */
export const XOS_FLOW_APP = 'org.opencord.xos';

/** The VN gateway of a provider service, or a terminal error saying what is missing. */
export function vnGatewayOf(service: StoredObject): VnGateway {
  const ssa = service.service_specific_attribute;
  const gw = isObject(ssa) ? ssa.vn_gateway : undefined;
  const device = isObject(gw) ? text(gw.device_id) : undefined;
  const uplink = isObject(gw) ? gw.uplink_port : undefined;
  if (!isObject(gw) || !device || (typeof uplink !== 'string' && typeof uplink !== 'number'))
    throw new TerminalBackendError(
      `connect_method public (VN gateway) needs Service ${service.id} service_specific_attribute.vn_gateway {device_id, uplink_port[, downlink_port, priority]}`,
    );
  const down = gw.downlink_port;
  return {
    device_id: device,
    uplink_port: String(uplink),
    downlink_port: typeof down === 'string' || typeof down === 'number' ? String(down) : undefined,
    priority: typeof gw.priority === 'number' ? gw.priority : 45_000,
  };
}

/** A flow rule as posted (FlowRuleCodec; FlowsBatchPost.json). */
export interface FlowRule {
  readonly priority: number;
  readonly timeout: number;
  readonly isPermanent: boolean;
  readonly deviceId: string;
  readonly treatment: { readonly instructions: readonly Record<string, unknown>[]; readonly deferred: readonly [] };
  readonly selector: { readonly criteria: readonly Record<string, unknown>[] };
}

/**
 * The gateway rules for one subscriber subnet: its IPv4 traffic leaves by the uplink, and traffic
 * to it comes back by the downlink (when one is named).
 */
export function gatewayFlows(gw: VnGateway, subnet: string): FlowRule[] {
  const rule = (field: 'IPV4_SRC' | 'IPV4_DST', port: string): FlowRule => ({
    priority: gw.priority,
    timeout: 0,
    isPermanent: true,
    deviceId: gw.device_id,
    treatment: { instructions: [{ type: 'OUTPUT', port }], deferred: [] },
    selector: {
      criteria: [
        { type: 'ETH_TYPE', ethType: '0x800' },
        { type: field, ip: subnet },
      ],
    },
  });
  const rules = [rule('IPV4_SRC', gw.uplink_port)];
  if (gw.downlink_port !== undefined) rules.push(rule('IPV4_DST', gw.downlink_port));
  return rules;
}

/** Whether an installed flow entry is this rule (same identity: app, device, priority, selector). */
export function isSameFlow(entry: Record<string, unknown>, rule: FlowRule): boolean {
  const sel = entry.selector as { criteria?: unknown } | undefined;
  return (
    entry.appId === XOS_FLOW_APP &&
    entry.deviceId === rule.deviceId &&
    entry.priority === rule.priority &&
    sameJson(sel?.criteria ?? [], rule.selector.criteria)
  );
}
