/**
 * What the ONOS stand-in holds, and ONOS's rules for changing it (../shared/peers/onos/API.md):
 * the application registry (INSTALLED/ACTIVE, required apps activated transitively, bundled apps
 * already installed), the network configuration tree (merge on POST at configKey granularity,
 * configs of unregistered app config keys queued and invisible), component configuration, flow
 * rules with deterministic ids, devices and hosts, and the VTN app's service networks (present only
 * while org.opencord.vtn is active, like any app's REST resources). Pure state: no HTTP here.
 */
import { createHash } from 'node:crypto';

/** An ONOS error as the resource would raise it: status plus message (the mapper adds the code). */
export class OnosError extends Error {
  constructor(
    readonly status: number,
    message: string | readonly string[],
  ) {
    super(Array.isArray(message) ? message.join('; ') : (message as string));
    this.messages = Array.isArray(message) ? [...message] : undefined;
  }
  readonly messages: string[] | undefined;
}

/** An application (ApplicationCodec fields). */
export interface OnosApp {
  name: string;
  id: number;
  version: string;
  category: string;
  description: string;
  readme: string;
  origin: string;
  url: string;
  featuresRepo: string;
  state: 'INSTALLED' | 'ACTIVE';
  features: string[];
  permissions: string[];
  requiredApps: string[];
}

/** What an .oar at a URL contains (the stand-in cannot download one). */
export interface OarDescription {
  readonly name: string;
  readonly version: string;
  readonly requiredApps?: readonly string[];
}

/** What an app registers when active: netcfg config keys under `apps`, components with properties. */
export interface AppRegistrations {
  readonly configKeys?: readonly string[];
  readonly components?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** A device the stand-in pretends is connected. */
export interface OnosDevice {
  readonly id: string;
  readonly ports: number;
}

/** Options shaping the initial state. */
export interface OnosStateOptions {
  /** ONOS version reported by bundled apps. */
  readonly onosVersion?: string;
  /** URL -> what the .oar there holds; otherwise parsed from `<name>-<version>.oar`. */
  readonly catalog?: Readonly<Record<string, OarDescription>>;
  /** Registrations per app name, added to the built-in table. */
  readonly registrations?: Readonly<Record<string, AppRegistrations>>;
  readonly devices?: readonly OnosDevice[];
}

/** The flow rule fields XOS sends (FlowRuleCodec.decode). */
export interface FlowRuleBody {
  priority?: unknown;
  timeout?: unknown;
  isPermanent?: unknown;
  deviceId?: unknown;
  tableId?: unknown;
  appId?: unknown;
  treatment?: unknown;
  selector?: unknown;
}

/** A stored flow entry. */
export interface FlowEntry {
  id: string;
  appId: string;
  priority: number;
  timeout: number;
  isPermanent: boolean;
  deviceId: string;
  tableId: number;
  state: 'PENDING_ADD' | 'ADDED';
  treatment: { instructions: unknown[]; deferred: unknown[] };
  selector: { criteria: unknown[] };
  created: number;
}

type Json = unknown;
type ConfigTree = Map<string, Map<string, Map<string, Json>>>;

/** Subject classes registered by the core. */
export const SUBJECT_CLASSES = ['apps', 'devices', 'ports', 'hosts', 'links', 'regions', 'layouts', 'domains'];

/** Apps bundled with ONOS: installed, some active, only need activating. */
const BUNDLED: ReadonlyArray<{ name: string; active?: boolean; requiredApps?: string[]; category: string }> = [
  { name: 'org.onosproject.drivers', active: true, category: 'Drivers' },
  { name: 'org.onosproject.openflow-base', category: 'Provider' },
  { name: 'org.onosproject.openflow', requiredApps: ['org.onosproject.openflow-base'], category: 'Provider' },
  { name: 'org.onosproject.ovsdb-base', category: 'Provider' },
  { name: 'org.onosproject.fwd', category: 'Traffic Engineering' },
  { name: 'org.onosproject.vrouter', category: 'Traffic Engineering' },
  { name: 'org.onosproject.segmentrouting', category: 'Traffic Engineering' },
  { name: 'org.onosproject.netcfghostprovider', category: 'Provider' },
];

/** What well-known apps register when active (config keys under `apps`, components). */
const REGISTRATIONS: Readonly<Record<string, AppRegistrations>> = {
  'org.opencord.vtn': { configKeys: ['cordvtn'] },
  'org.opencord.sadis': { configKeys: ['sadis', 'bandwidthprofile'] },
  'org.opencord.olt': { components: { 'org.opencord.olt.impl.Olt': { enableDhcpOnProvisioning: 'false' } } },
  'org.onosproject.segmentrouting': { configKeys: ['segmentrouting'] },
  'org.onosproject.vrouter': { configKeys: ['router'] },
};

/** Components every ONOS has (a small sample of the real list). */
const CORE_COMPONENTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'org.onosproject.provider.lldp.impl.LldpLinkProvider': { enabled: 'true', probeRate: '3000', staleLinkAge: '10000' },
  'org.onosproject.net.flow.impl.FlowRuleManager': { allowExtraneousRules: 'false', purgeOnDisconnection: 'false' },
};

/** The VTN app (its REST resources exist only while it is active). */
export const VTN_APP = 'org.opencord.vtn';

/** A deterministic flow id: ONOS derives it from the rule's identity (app, device, table, priority, selector). */
export function flowIdOf(
  appId: string,
  deviceId: string,
  tableId: number,
  priority: number,
  selector: unknown,
): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([appId, deviceId, tableId, priority, selector]))
    .digest();
  return (digest.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn).toString();
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The ONOS state. */
export class OnosState {
  readonly apps = new Map<string, OnosApp>();
  /** Every configuration ever accepted, visible or queued. */
  readonly netcfg: ConfigTree = new Map(SUBJECT_CLASSES.map((c) => [c, new Map()]));
  readonly components = new Map<string, Map<string, string>>();
  readonly flows = new Map<string, FlowEntry>();
  readonly devices: OnosDevice[];
  readonly hosts = new Map<string, Record<string, unknown>>();
  readonly serviceNetworks = new Map<string, Record<string, unknown>>();
  /** App names known to the core service (registered by installs and REST flow posts). */
  readonly appIds = new Map<string, number>();
  private readonly registrations: Record<string, AppRegistrations>;
  private nextAppId = 1;

  constructor(private readonly options: OnosStateOptions = {}) {
    this.registrations = { ...REGISTRATIONS, ...(options.registrations ?? {}) };
    this.devices = [...(options.devices ?? [{ id: 'of:0000000000000001', ports: 4 }])];
    this.registerAppId('org.onosproject.core');
    this.registerAppId('org.onosproject.rest');
    for (const b of BUNDLED) {
      this.addApp({
        name: b.name,
        version: this.onosVersion,
        category: b.category,
        requiredApps: b.requiredApps ?? [],
        url: 'http://onosproject.org',
        origin: 'ONOS Community',
        featuresRepo: `mvn:org.onosproject/${b.name.replace('org.onosproject.', 'onos-apps-')}/${this.onosVersion}/xml/features`,
      });
      if (b.active) this.activate(b.name);
    }
    for (const [name, props] of Object.entries(CORE_COMPONENTS))
      this.components.set(name, new Map(Object.entries(props)));
  }

  get onosVersion(): string {
    return this.options.onosVersion ?? '2.7.0';
  }

  registerAppId(name: string): number {
    let id = this.appIds.get(name);
    if (id === undefined) {
      id = this.nextAppId++;
      this.appIds.set(name, id);
    }
    return id;
  }

  private addApp(
    a: Pick<OnosApp, 'name' | 'version' | 'category' | 'requiredApps' | 'url' | 'origin' | 'featuresRepo'>,
  ) {
    const app: OnosApp = {
      ...a,
      id: this.registerAppId(a.name),
      description: `${a.name} (ONOS stand-in)`,
      readme: `${a.name} (ONOS stand-in)`,
      state: 'INSTALLED',
      features: [a.name.split('.').pop() ?? a.name],
      permissions: [],
    };
    this.apps.set(app.name, app);
    return app;
  }

  // ---- applications

  /** POST /applications {url, activate}: install from a URL (ONOS downloads and parses the .oar). */
  installFromUrl(url: string, activate: boolean): OnosApp {
    const oar = this.options.catalog?.[url] ?? parseOarUrl(url);
    if (!oar) throw new OnosError(400, `Unable to download or parse application archive from ${url}`);
    // Installing a name that is already installed is an IllegalStateException (CORD-2062: 409).
    if (this.apps.has(oar.name)) throw new OnosError(409, `Application ${oar.name} already installed`);
    for (const req of oar.requiredApps ?? [])
      if (!this.apps.has(req)) throw new OnosError(400, `Required application ${req} is not installed`);
    this.addApp({
      name: oar.name,
      version: oar.version,
      category: 'default',
      requiredApps: [...(oar.requiredApps ?? [])],
      url,
      origin: 'XOS',
      featuresRepo: '',
    });
    if (activate) this.activate(oar.name);
    return this.app(oar.name);
  }

  app(name: string): OnosApp {
    const app = this.apps.get(name);
    if (!app) throw new OnosError(404, `Application is not found:${name}`);
    return app;
  }

  /** Activate an app and, first, every app it requires. */
  activate(name: string): OnosApp {
    const app = this.apps.get(name);
    if (!app) throw new OnosError(404, `Application is not found: ${name}`);
    for (const req of app.requiredApps) if (this.apps.has(req)) this.activate(req);
    if (app.state !== 'ACTIVE') {
      app.state = 'ACTIVE';
      const reg = this.registrations[name];
      for (const [component, props] of Object.entries(reg?.components ?? {}))
        if (!this.components.has(component)) this.components.set(component, new Map(Object.entries(props)));
    }
    return app;
  }

  deactivate(name: string): void {
    const app = this.apps.get(name);
    if (app) app.state = 'INSTALLED';
  }

  uninstall(name: string): void {
    this.deactivate(name);
    this.apps.delete(name);
  }

  isActive(name: string): boolean {
    return this.apps.get(name)?.state === 'ACTIVE';
  }

  // ---- network configuration

  /** Whether a config is visible: app config keys only once an active app registered them. */
  private registered(sck: string, ck: string): boolean {
    if (sck !== 'apps') return true;
    for (const [app, reg] of Object.entries(this.registrations))
      if (this.isActive(app) && reg.configKeys?.includes(ck)) return true;
    return false;
  }

  /** The visible tree (every subject class present, even empty), or a part of it. */
  readConfig(sck?: string, sk?: string, ck?: string): Json {
    if (sck === undefined) {
      return Object.fromEntries([...this.netcfg.keys()].map((c) => [c, this.readConfig(c)]));
    }
    const subjects = this.netcfg.get(sck);
    if (!subjects) throw new OnosError(404, `Config for '${sck}' not found`);
    const visible = (s: string) =>
      Object.fromEntries([...(subjects.get(s) ?? new Map()).entries()].filter(([k]) => this.registered(sck, k)));
    if (sk === undefined) {
      const out: Record<string, Json> = {};
      for (const s of subjects.keys()) {
        const v = visible(s);
        if (Object.keys(v).length > 0) out[s] = v;
      }
      return out;
    }
    const configs = visible(sk);
    if (ck === undefined) {
      if (Object.keys(configs).length === 0) throw new OnosError(404, `Config for '${sck}/${sk}' not found`);
      return configs;
    }
    if (!(ck in configs)) throw new OnosError(404, `Config for '${sck}/${sk}/${ck}' not found`);
    return configs[ck];
  }

  /**
   * POST at any depth: merges at configKey granularity. Returns the per-part failures (the
   * resource turns a non-empty list into 207); a keyed path with an unknown subject class is a 404.
   */
  applyConfig(path: readonly string[], body: Json): string[] {
    const [sck, sk, ck] = path;
    if (sck !== undefined && !this.netcfg.has(sck)) throw new OnosError(404, `subjectClassKey '${sck}' not found`);
    if (ck !== undefined && sck !== undefined && sk !== undefined) {
      this.put(sck, sk, ck, body);
      return [];
    }
    if (!isObject(body)) throw new OnosError(400, 'Unable to parse JSON: expected an object');
    const errors: string[] = [];
    const subjectLevel = (c: string, s: string, configs: Json) => {
      if (!isObject(configs)) {
        errors.push(`Error parsing config ${c}/${s}`);
        return;
      }
      for (const [k, v] of Object.entries(configs)) {
        if (isObject(v) || Array.isArray(v)) this.put(c, s, k, v);
        else errors.push(`Error parsing config ${c}/${s}/${k}`);
      }
    };
    const classLevel = (c: string, subjects: Json) => {
      if (!isObject(subjects)) {
        errors.push(`Error parsing config ${c}`);
        return;
      }
      for (const [s, configs] of Object.entries(subjects)) subjectLevel(c, s, configs);
    };
    if (sck === undefined) {
      for (const [c, subjects] of Object.entries(body)) {
        if (!this.netcfg.has(c)) errors.push(`subjectClassKey '${c}' not found`);
        else classLevel(c, subjects);
      }
    } else if (sk === undefined) classLevel(sck, body);
    else subjectLevel(sck, sk, body);
    return errors;
  }

  private put(sck: string, sk: string, ck: string, value: Json): void {
    const subjects = this.netcfg.get(sck)!;
    let configs = subjects.get(sk);
    if (!configs) {
      configs = new Map();
      subjects.set(sk, configs);
    }
    configs.set(ck, structuredClone(value));
  }

  /** DELETE at any depth; a missing subject or config is a no-op, an unknown subject class a 404. */
  removeConfig(path: readonly string[]): void {
    const [sck, sk, ck] = path;
    if (sck === undefined) {
      for (const subjects of this.netcfg.values()) subjects.clear();
      return;
    }
    const subjects = this.netcfg.get(sck);
    if (!subjects) throw new OnosError(404, `subjectClassKey '${sck}' not found`);
    if (sk === undefined) subjects.clear();
    else if (ck === undefined) subjects.delete(sk);
    else subjects.get(sk)?.delete(ck);
  }

  // ---- component configuration

  readComponent(component: string): Record<string, Record<string, Record<string, string>>> {
    const props = this.components.get(component);
    if (!props) throw new OnosError(404, 'No such component');
    const out: Record<string, Record<string, string>> = {};
    for (const [name, value] of props)
      out[name] = { name, type: 'STRING', value, defaultValue: CORE_COMPONENTS[component]?.[name] ?? value };
    return { [component]: out };
  }

  /** POST /configuration/{component}: values read as text; unknown properties of a known component rejected. */
  setComponent(component: string, body: Json): string[] {
    if (!isObject(body)) throw new OnosError(400, 'Unable to parse JSON: expected an object');
    let props = this.components.get(component);
    const known = props !== undefined;
    if (!props) {
      // Properties of a component that has not registered yet are kept (ONOS presets them).
      props = new Map();
      this.components.set(component, props);
    }
    const errors: string[] = [];
    for (const [name, value] of Object.entries(body)) {
      if (known && !props.has(name)) errors.push(`Property ${name} is not defined for component ${component}`);
      else props.set(name, typeof value === 'string' ? value : JSON.stringify(value));
    }
    return errors;
  }

  resetComponent(component: string, body: Json): void {
    const props = this.components.get(component);
    if (!props || !isObject(body)) return;
    for (const name of Object.keys(body)) {
      const dflt = CORE_COMPONENTS[component]?.[name];
      if (dflt === undefined) props.delete(name);
      else props.set(name, dflt);
    }
  }

  // ---- flows

  /** Decode and store one rule (FlowRuleCodec.decode's required members); returns its id. */
  addFlow(body: FlowRuleBody, deviceFromPath: string | undefined, appIdParam: string | undefined): FlowEntry {
    const require = (field: keyof FlowRuleBody) => {
      if (body[field] === undefined || body[field] === null)
        throw new OnosError(400, `${field} member is required in FlowRule`);
      return body[field];
    };
    const priority = Number(require('priority'));
    const isPermanent = require('isPermanent') === true || require('isPermanent') === 'true';
    const timeout = isPermanent ? Number(body.timeout ?? 0) : Number(require('timeout'));
    if (deviceFromPath !== undefined && body.deviceId !== undefined && body.deviceId !== deviceFromPath)
      throw new OnosError(400, 'Invalid deviceId in flow creation request');
    const deviceId = deviceFromPath ?? String(require('deviceId'));
    const appId = String(body.appId ?? appIdParam ?? 'org.onosproject.rest');
    this.registerAppId(appId);
    const tableId = Number(body.tableId ?? 0);
    const selector = isObject(body.selector) ? { criteria: toArray(body.selector.criteria) } : { criteria: [] };
    const treatment = isObject(body.treatment)
      ? { instructions: toArray(body.treatment.instructions), deferred: toArray(body.treatment.deferred) }
      : { instructions: [], deferred: [] };
    const id = flowIdOf(appId, deviceId, tableId, priority, selector);
    const known = this.devices.some((d) => d.id === deviceId);
    const entry: FlowEntry = {
      id,
      appId,
      priority,
      timeout,
      isPermanent,
      deviceId,
      tableId,
      // With no switch behind a device, rules never leave PENDING_ADD.
      state: known ? 'ADDED' : 'PENDING_ADD',
      treatment,
      selector,
      created: this.flows.get(id)?.created ?? Date.now(),
    };
    this.flows.set(id, entry);
    return entry;
  }

  flowsOf(deviceId: string): FlowEntry[] {
    const list = [...this.flows.values()].filter((f) => f.deviceId === deviceId);
    if (list.length === 0) throw new OnosError(404, 'Device is not found');
    return list;
  }

  removeFlow(deviceId: string, flowId: string): void {
    this.flowsOf(deviceId); // the "no flows -> 404" quirk
    const f = this.flows.get(flowId);
    if (f && f.deviceId === deviceId) this.flows.delete(flowId);
  }
}

function toArray(v: unknown): unknown[] {
  return Array.isArray(v) ? structuredClone(v) : [];
}

/** `.../<dotted.name>-<version>.oar` -> name and version. */
export function parseOarUrl(url: string): OarDescription | undefined {
  const file = url.split(/[?#]/)[0]?.split('/').pop() ?? '';
  const m = /^([a-z][\w.-]*\.[\w-]+?)-(\d[\w.-]*)\.oar$/i.exec(file);
  return m ? { name: m[1] as string, version: m[2] as string } : undefined;
}
