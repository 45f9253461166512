/**
 * The EC2 stand-in's state and actions: VPCs (each with its `default` security group), security
 * groups and their ingress, subnets, AMIs, instances (pending -> running after `settleMs`,
 * shutting-down -> terminated likewise, ClientToken idempotency) and network interfaces, with
 * the checks real EC2 makes (CIDR range and conflicts, dependencies on delete, duplicate rules)
 * and its error codes and messages. Time-based states are computed when read, so no timers run.
 */
import { randomBytes } from 'node:crypto';
import { filters, list, type Params, type Permission, permissions, type QueryFilter, tags } from './query';
import { tagSet, type XmlNode } from './xml';

/** An EC2 error answer. */
export class Ec2Fault extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** An AMI the stand-in knows. */
export interface SeedImage {
  readonly id: string;
  readonly name: string;
}

/**
 * AMIs present from the start. The first is also one of moto's built-in AMIs (same id and name),
 * so the contract suite can look it up on both.
 */
export const DEFAULT_IMAGES: readonly SeedImage[] = [
  { id: 'ami-760aaa0f', name: 'amzn-ami-hvm-2017.09.1.20171103-x86_64-gp2' },
  { id: 'ami-1e749f67', name: 'ubuntu/images/hvm-ssd/ubuntu-trusty-14.04-amd64-server-20170727' },
];

const OWNER = '123456789012';
const STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

type Tags = Record<string, string>;

interface Vpc {
  id: string;
  cidr: string;
  tags: Tags;
}
interface Rule {
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidr?: string;
  group?: string;
}
interface Group {
  id: string;
  name: string;
  description: string;
  vpcId: string;
  ingress: Rule[];
  tags: Tags;
}
interface Subnet {
  id: string;
  vpcId: string;
  cidr: string;
  az: string;
  nextHost: number;
  tags: Tags;
}
interface Eni {
  id: string;
  subnetId: string;
  groupIds: string[];
  ip: string;
  mac: string;
  attachment?: { id: string; instanceId: string; deviceIndex: number };
  /** The primary interface of an instance: created and deleted with it. */
  primary: boolean;
  tags: Tags;
}
interface Instance {
  id: string;
  reservationId: string;
  imageId: string;
  type: string;
  subnetId: string;
  groupIds: string[];
  clientToken?: string;
  launchedAt: number;
  terminatedAt?: number;
  tags: Tags;
}

const hex = (n: number) =>
  randomBytes(Math.ceil(n / 2))
    .toString('hex')
    .slice(0, n);

const ipInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const intIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

function cidr(text: string | undefined): { base: number; size: number } | undefined {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text ?? '');
  if (!m?.[1] || !m[2]) return undefined;
  const bits = Number(m[2]);
  if (bits > 32 || m[1].split('.').some((o) => Number(o) > 255)) return undefined;
  const size = 2 ** (32 - bits);
  return { base: Math.floor(ipInt(m[1]) / size) * size, size };
}

const required = (params: Params, name: string): string => {
  const v = params.get(name);
  if (v === undefined || v === '')
    throw new Ec2Fault('MissingParameter', `The request must contain the parameter ${name}`);
  return v;
};

/** The item with this id, or EC2's not-found fault. */
function existing<T>(items: ReadonlyMap<string, T>, id: string, code: string, message: string): T {
  const item = items.get(id);
  if (!item) throw new Ec2Fault(code, message);
  return item;
}

/** Match a resource against EC2 filters: `tag:<key>`, `tag-key` and the resource's own fields. */
function matches(f: readonly QueryFilter[], resourceTags: Tags, fields: Record<string, string | undefined>): boolean {
  return f.every((filter) => {
    if (filter.name.startsWith('tag:')) {
      const v = resourceTags[filter.name.slice(4)];
      return v !== undefined && filter.values.includes(v);
    }
    if (filter.name === 'tag-key') return filter.values.some((k) => k in resourceTags);
    if (!(filter.name in fields)) throw new Ec2Fault('InvalidParameterValue', `The filter '${filter.name}' is invalid`);
    const v = fields[filter.name];
    return v !== undefined && filter.values.includes(v);
  });
}

/** Knobs the world reads. */
export interface WorldOptions {
  /** Time from launch to running, and from terminate to terminated. */
  settleMs: number;
  region: string;
}

/** The stand-in's EC2. */
export class Ec2World {
  readonly vpcs = new Map<string, Vpc>();
  readonly groups = new Map<string, Group>();
  readonly subnets = new Map<string, Subnet>();
  readonly images = new Map<string, SeedImage>();
  readonly instances = new Map<string, Instance>();
  readonly enis = new Map<string, Eni>();
  /** RunInstances that launched something (a ClientToken replay does not count). */
  launches = 0;

  constructor(
    readonly options: WorldOptions,
    images: readonly SeedImage[] = DEFAULT_IMAGES,
    private readonly now: () => number = Date.now,
  ) {
    for (const image of images) this.images.set(image.id, image);
  }

  /** Run one action; returns the response body or throws Ec2Fault. */
  perform(action: string, params: Params): XmlNode {
    const handler = (this as unknown as Record<string, unknown>)[`action${action}`];
    if (typeof handler !== 'function')
      throw new Ec2Fault('InvalidAction', `The action ${action} is not valid for this web service.`);
    return (handler as (p: Params) => XmlNode).call(this, params);
  }

  /** Describe*: the items named by `<idParam>.N` (each must exist) that match the filters. */
  private select<T extends { id: string; tags: Tags }>(
    p: Params,
    idParam: string,
    items: Iterable<T>,
    get: (id: string) => T,
    fields: (item: T) => Record<string, string | undefined>,
  ): T[] {
    const ids = list(p, idParam);
    for (const id of ids) get(id);
    const f = filters(p);
    return [...items].filter((x) => (ids.length === 0 || ids.includes(x.id)) && matches(f, x.tags, fields(x)));
  }

  // ---- VPCs -----------------------------------------------------------------------------------

  private vpc(id: string): Vpc {
    return existing(this.vpcs, id, 'InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
  }

  private vpcXml(v: Vpc): XmlNode {
    return {
      vpcId: v.id,
      state: 'available',
      cidrBlock: v.cidr,
      ownerId: OWNER,
      instanceTenancy: 'default',
      isDefault: false,
      tagSet: tagSet(v.tags),
    };
  }

  actionCreateVpc(p: Params): XmlNode {
    const block = required(p, 'CidrBlock');
    const c = cidr(block);
    if (!c) throw new Ec2Fault('InvalidParameterValue', `Value (${block}) for parameter cidrBlock is invalid.`);
    if (c.size > 2 ** 16 || c.size < 16) throw new Ec2Fault('InvalidVpc.Range', `The CIDR '${block}' is invalid.`);
    const v: Vpc = { id: `vpc-${hex(17)}`, cidr: `${intIp(c.base)}/${32 - Math.log2(c.size)}`, tags: tags(p, 'vpc') };
    this.vpcs.set(v.id, v);
    const def: Group = {
      id: `sg-${hex(17)}`,
      name: 'default',
      description: 'default VPC security group',
      vpcId: v.id,
      ingress: [],
      tags: {},
    };
    def.ingress.push({ protocol: '-1', group: def.id });
    this.groups.set(def.id, def);
    return { vpc: this.vpcXml(v) };
  }

  actionDescribeVpcs(p: Params): XmlNode {
    const found = this.select(
      p,
      'VpcId',
      this.vpcs.values(),
      (id) => this.vpc(id),
      (v) => ({ 'vpc-id': v.id, 'cidr-block': v.cidr, state: 'available' }),
    );
    return { vpcSet: found.map((v) => this.vpcXml(v)) };
  }

  actionDeleteVpc(p: Params): XmlNode {
    const v = this.vpc(required(p, 'VpcId'));
    const subnets = [...this.subnets.values()].some((s) => s.vpcId === v.id);
    const groups = [...this.groups.values()].some((g) => g.vpcId === v.id && g.name !== 'default');
    if (subnets || groups)
      throw new Ec2Fault('DependencyViolation', `The vpc '${v.id}' has dependencies and cannot be deleted.`);
    for (const g of [...this.groups.values()]) if (g.vpcId === v.id) this.groups.delete(g.id);
    this.vpcs.delete(v.id);
    return { return: true };
  }

  // ---- Security groups ------------------------------------------------------------------------

  private group(id: string): Group {
    return existing(this.groups, id, 'InvalidGroup.NotFound', `The security group '${id}' does not exist`);
  }

  private groupXml(g: Group): XmlNode {
    // EC2 groups rules by (protocol, range) with all their sources.
    const byRange = new Map<string, { rule: Rule; cidrs: string[]; groups: string[] }>();
    for (const r of g.ingress) {
      const key = `${r.protocol}|${r.fromPort}|${r.toPort}`;
      const entry = byRange.get(key) ?? { rule: r, cidrs: [], groups: [] };
      if (r.cidr) entry.cidrs.push(r.cidr);
      if (r.group) entry.groups.push(r.group);
      byRange.set(key, entry);
    }
    return {
      ownerId: OWNER,
      groupId: g.id,
      groupName: g.name,
      groupDescription: g.description,
      vpcId: g.vpcId,
      ipPermissions: [...byRange.values()].map(({ rule, cidrs, groups }) => ({
        ipProtocol: rule.protocol,
        fromPort: rule.fromPort,
        toPort: rule.toPort,
        groups: groups.map((groupId) => ({ userId: OWNER, groupId })),
        ipRanges: cidrs.map((cidrIp) => ({ cidrIp })),
        ipv6Ranges: [],
        prefixListIds: [],
      })),
      ipPermissionsEgress: [{ ipProtocol: '-1', groups: [], ipRanges: [{ cidrIp: '0.0.0.0/0' }] }],
      tagSet: tagSet(g.tags),
    };
  }

  actionCreateSecurityGroup(p: Params): XmlNode {
    const name = required(p, 'GroupName');
    const description = required(p, 'GroupDescription');
    const vpcId = required(p, 'VpcId');
    this.vpc(vpcId);
    if ([...this.groups.values()].some((g) => g.vpcId === vpcId && g.name === name))
      throw new Ec2Fault('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
    const g: Group = { id: `sg-${hex(17)}`, name, description, vpcId, ingress: [], tags: tags(p, 'security-group') };
    this.groups.set(g.id, g);
    return { return: true, groupId: g.id };
  }

  actionDescribeSecurityGroups(p: Params): XmlNode {
    const found = this.select(
      p,
      'GroupId',
      this.groups.values(),
      (id) => this.group(id),
      (g) => ({ 'group-id': g.id, 'group-name': g.name, 'vpc-id': g.vpcId }),
    );
    return { securityGroupInfo: found.map((g) => this.groupXml(g)) };
  }

  private rulesOf(perms: readonly Permission[]): Rule[] {
    const rules: Rule[] = [];
    for (const perm of perms) {
      const base =
        perm.protocol === '-1'
          ? { protocol: '-1' }
          : { protocol: perm.protocol, fromPort: perm.fromPort, toPort: perm.toPort };
      for (const c of perm.cidrs) {
        if (!cidr(c)) throw new Ec2Fault('InvalidParameterValue', `CIDR block ${c} is malformed`);
        rules.push({ ...base, cidr: c });
      }
      for (const g of perm.groups) {
        this.group(g);
        rules.push({ ...base, group: g });
      }
    }
    return rules;
  }

  private static same(a: Rule, b: Rule): boolean {
    return (
      a.protocol === b.protocol &&
      a.fromPort === b.fromPort &&
      a.toPort === b.toPort &&
      a.cidr === b.cidr &&
      a.group === b.group
    );
  }

  actionAuthorizeSecurityGroupIngress(p: Params): XmlNode {
    const g = this.group(required(p, 'GroupId'));
    const rules = this.rulesOf(permissions(p));
    const dup = rules.find((r) => g.ingress.some((e) => Ec2World.same(e, r)));
    if (dup)
      throw new Ec2Fault(
        'InvalidPermission.Duplicate',
        `the specified rule "peer: ${dup.cidr ?? dup.group}, ${dup.protocol.toUpperCase()}, from port: ${dup.fromPort}, to port: ${dup.toPort}, ALLOW" already exists`,
      );
    g.ingress.push(...rules);
    return { return: true };
  }

  actionRevokeSecurityGroupIngress(p: Params): XmlNode {
    const g = this.group(required(p, 'GroupId'));
    const rules = this.rulesOf(permissions(p));
    for (const r of rules) {
      if (!g.ingress.some((e) => Ec2World.same(e, r)))
        throw new Ec2Fault('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');
    }
    g.ingress = g.ingress.filter((e) => !rules.some((r) => Ec2World.same(e, r)));
    return { return: true };
  }

  actionDeleteSecurityGroup(p: Params): XmlNode {
    const g = this.group(required(p, 'GroupId'));
    if ([...this.enis.values()].some((n) => this.eniLive(n) && n.groupIds.includes(g.id)))
      throw new Ec2Fault('DependencyViolation', `resource ${g.id} has a dependent object`);
    this.groups.delete(g.id);
    return { return: true };
  }

  // ---- Subnets --------------------------------------------------------------------------------

  private subnet(id: string): Subnet {
    return existing(this.subnets, id, 'InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
  }

  private subnetXml(s: Subnet): XmlNode {
    const c = cidr(s.cidr);
    const used = [...this.enis.values()].filter((n) => n.subnetId === s.id && this.eniLive(n)).length;
    return {
      subnetId: s.id,
      state: 'available',
      vpcId: s.vpcId,
      cidrBlock: s.cidr,
      availableIpAddressCount: (c?.size ?? 0) - 5 - used,
      availabilityZone: s.az,
      defaultForAz: false,
      mapPublicIpOnLaunch: false,
      ownerId: OWNER,
      tagSet: tagSet(s.tags),
    };
  }

  actionCreateSubnet(p: Params): XmlNode {
    const vpc = this.vpc(required(p, 'VpcId'));
    const block = required(p, 'CidrBlock');
    const c = cidr(block);
    const v = cidr(vpc.cidr);
    if (!c || !v || c.size < 16 || c.base < v.base || c.base + c.size > v.base + v.size)
      throw new Ec2Fault('InvalidSubnet.Range', `The CIDR '${block}' is invalid.`);
    for (const other of this.subnets.values()) {
      const o = cidr(other.cidr);
      if (other.vpcId === vpc.id && o && c.base < o.base + o.size && o.base < c.base + c.size)
        throw new Ec2Fault('InvalidSubnet.Conflict', `The CIDR '${block}' conflicts with another subnet`);
    }
    const s: Subnet = {
      id: `subnet-${hex(17)}`,
      vpcId: vpc.id,
      cidr: `${intIp(c.base)}/${32 - Math.log2(c.size)}`,
      az: p.get('AvailabilityZone') ?? `${this.options.region}a`,
      nextHost: 4,
      tags: tags(p, 'subnet'),
    };
    this.subnets.set(s.id, s);
    return { subnet: this.subnetXml(s) };
  }

  actionDescribeSubnets(p: Params): XmlNode {
    const found = this.select(
      p,
      'SubnetId',
      this.subnets.values(),
      (id) => this.subnet(id),
      (s) => ({ 'subnet-id': s.id, 'vpc-id': s.vpcId, 'cidr-block': s.cidr, state: 'available' }),
    );
    return { subnetSet: found.map((s) => this.subnetXml(s)) };
  }

  actionDeleteSubnet(p: Params): XmlNode {
    const s = this.subnet(required(p, 'SubnetId'));
    if ([...this.enis.values()].some((n) => n.subnetId === s.id && this.eniLive(n)))
      throw new Ec2Fault('DependencyViolation', `The subnet '${s.id}' has dependencies and cannot be deleted.`);
    this.subnets.delete(s.id);
    return { return: true };
  }

  // ---- Images ---------------------------------------------------------------------------------

  actionDescribeImages(p: Params): XmlNode {
    const ids = list(p, 'ImageId');
    const missing = ids.filter((id) => !this.images.has(id));
    if (missing.length > 0)
      throw new Ec2Fault('InvalidAMIID.NotFound', `The image id '[${missing.join(', ')}]' does not exist`);
    const f = filters(p);
    const found = [...this.images.values()].filter(
      (i) =>
        (ids.length === 0 || ids.includes(i.id)) &&
        matches(f, {}, { 'image-id': i.id, name: i.name, state: 'available' }),
    );
    return {
      imagesSet: found.map((i) => ({
        imageId: i.id,
        name: i.name,
        imageState: 'available',
        imageOwnerId: OWNER,
        isPublic: true,
        architecture: 'x86_64',
        imageType: 'machine',
        creationDate: '2017-11-03T00:00:00.000Z',
        rootDeviceType: 'ebs',
        virtualizationType: 'hvm',
        tagSet: [],
      })),
    };
  }

  // ---- Instances ------------------------------------------------------------------------------

  private instanceState(i: Instance): string {
    const t = this.now();
    if (i.terminatedAt !== undefined)
      return t - i.terminatedAt >= this.options.settleMs ? 'terminated' : 'shutting-down';
    return t - i.launchedAt >= this.options.settleMs ? 'running' : 'pending';
  }

  /** An interface still holding its subnet and groups (an instance's primary until it is terminated). */
  private eniLive(n: Eni): boolean {
    if (!n.primary || !n.attachment) return true;
    const owner = this.instances.get(n.attachment.instanceId);
    return owner !== undefined && this.instanceState(owner) !== 'terminated';
  }

  private eniXml(n: Eni): XmlNode {
    const s = this.subnets.get(n.subnetId);
    return {
      networkInterfaceId: n.id,
      subnetId: n.subnetId,
      vpcId: s?.vpcId,
      availabilityZone: s?.az,
      ownerId: OWNER,
      status: n.attachment ? 'in-use' : 'available',
      macAddress: n.mac,
      privateIpAddress: n.ip,
      sourceDestCheck: true,
      interfaceType: 'interface',
      groupSet: n.groupIds.map((groupId) => ({ groupId, groupName: this.groups.get(groupId)?.name })),
      attachment: n.attachment
        ? {
            attachmentId: n.attachment.id,
            instanceId: n.attachment.instanceId,
            instanceOwnerId: OWNER,
            deviceIndex: n.attachment.deviceIndex,
            status: 'attached',
            deleteOnTermination: n.primary,
          }
        : undefined,
      tagSet: tagSet(n.tags),
    };
  }

  private instanceXml(i: Instance): XmlNode {
    const state = this.instanceState(i);
    const s = this.subnets.get(i.subnetId);
    const interfaces = [...this.enis.values()]
      .filter((n) => n.attachment?.instanceId === i.id && this.eniLive(n))
      .sort((a, b) => (a.attachment?.deviceIndex ?? 0) - (b.attachment?.deviceIndex ?? 0));
    const primary = interfaces.find((n) => n.primary);
    const gone = state === 'terminated';
    return {
      instanceId: i.id,
      imageId: i.imageId,
      instanceState: { code: STATE_CODES[state], name: state },
      privateDnsName: primary && !gone ? `ip-${primary.ip.replace(/\./g, '-')}.ec2.internal` : '',
      reason: gone ? 'User initiated' : '',
      amiLaunchIndex: 0,
      instanceType: i.type,
      launchTime: new Date(i.launchedAt).toISOString(),
      placement: { availabilityZone: s?.az ?? `${this.options.region}a`, tenancy: 'default' },
      monitoring: { state: 'disabled' },
      subnetId: gone ? undefined : i.subnetId,
      vpcId: gone ? undefined : s?.vpcId,
      privateIpAddress: gone ? undefined : primary?.ip,
      stateReason: gone
        ? { code: 'Client.UserInitiatedShutdown', message: 'Client.UserInitiatedShutdown: User initiated shutdown' }
        : undefined,
      clientToken: i.clientToken,
      groupSet: i.groupIds.map((groupId) => ({ groupId, groupName: this.groups.get(groupId)?.name })),
      networkInterfaceSet: interfaces.map((n) => this.eniXml(n)),
      tagSet: tagSet(i.tags),
    };
  }

  private reservationXml(reservationId: string, found: readonly Instance[]): XmlNode {
    return { reservationId, ownerId: OWNER, groupSet: [], instancesSet: found.map((i) => this.instanceXml(i)) };
  }

  actionRunInstances(p: Params): XmlNode {
    const imageId = required(p, 'ImageId');
    const min = Number(required(p, 'MinCount'));
    const max = Number(required(p, 'MaxCount'));
    if (!(min >= 1 && max >= min))
      throw new Ec2Fault('InvalidParameterValue', 'MinCount and MaxCount must be at least 1 and MinCount <= MaxCount');
    const clientToken = p.get('ClientToken');
    if (clientToken) {
      const earlier = [...this.instances.values()].filter((i) => i.clientToken === clientToken);
      const first = earlier[0];
      if (first) return this.reservationXml(first.reservationId, earlier);
    }
    if (!this.images.has(imageId))
      throw new Ec2Fault('InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    const subnetId = p.get('SubnetId');
    if (!subnetId)
      throw new Ec2Fault(
        'VPCIdNotSpecified',
        'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.',
      );
    const subnet = this.subnet(subnetId);
    const groupIds = list(p, 'SecurityGroupId');
    for (const g of groupIds) {
      if (this.group(g).vpcId !== subnet.vpcId)
        throw new Ec2Fault(
          'InvalidParameter',
          `Security group ${g} and subnet ${subnetId} belong to different networks.`,
        );
    }
    const reservationId = `r-${hex(17)}`;
    const launched: Instance[] = [];
    for (let n = 0; n < min; n++) {
      const i: Instance = {
        id: `i-${hex(17)}`,
        reservationId,
        imageId,
        type: p.get('InstanceType') ?? 'm1.small',
        subnetId,
        groupIds: groupIds.length > 0 ? groupIds : this.defaultGroupOf(subnet.vpcId),
        clientToken,
        launchedAt: this.now(),
        tags: tags(p, 'instance'),
      };
      this.instances.set(i.id, i);
      this.newEni(subnet, i.groupIds, {}, { instanceId: i.id, deviceIndex: 0 });
      launched.push(i);
    }
    this.launches++;
    return this.reservationXml(reservationId, launched);
  }

  private defaultGroupOf(vpcId: string): string[] {
    return [...this.groups.values()].filter((g) => g.vpcId === vpcId && g.name === 'default').map((g) => g.id);
  }

  private instance(id: string): Instance {
    return existing(this.instances, id, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
  }

  actionDescribeInstances(p: Params): XmlNode {
    const found = this.select(
      p,
      'InstanceId',
      this.instances.values(),
      (id) => this.instance(id),
      (i) => ({
        'instance-id': i.id,
        'instance-state-name': this.instanceState(i),
        'subnet-id': i.subnetId,
        'vpc-id': this.subnets.get(i.subnetId)?.vpcId,
        'image-id': i.imageId,
        'client-token': i.clientToken,
      }),
    );
    const byReservation = new Map<string, Instance[]>();
    for (const i of found) byReservation.set(i.reservationId, [...(byReservation.get(i.reservationId) ?? []), i]);
    return { reservationSet: [...byReservation].map(([r, is]) => this.reservationXml(r, is)) };
  }

  actionTerminateInstances(p: Params): XmlNode {
    const ids = list(p, 'InstanceId');
    if (ids.length === 0) throw new Ec2Fault('MissingParameter', 'The request must contain the parameter InstanceId');
    const all = ids.map((id) => this.instance(id));
    return {
      instancesSet: all.map((i) => {
        const previous = this.instanceState(i);
        if (i.terminatedAt === undefined) i.terminatedAt = this.now();
        // Secondary interfaces are detached (they outlive the instance, as in EC2).
        for (const n of this.enis.values())
          if (n.attachment?.instanceId === i.id && !n.primary) n.attachment = undefined;
        const current = this.instanceState(i);
        return {
          instanceId: i.id,
          currentState: { code: STATE_CODES[current], name: current },
          previousState: { code: STATE_CODES[previous], name: previous },
        };
      }),
    };
  }

  // ---- Network interfaces ---------------------------------------------------------------------

  private newEni(
    subnet: Subnet,
    groupIds: string[],
    eniTags: Tags,
    attach?: { instanceId: string; deviceIndex: number },
  ): Eni {
    const c = cidr(subnet.cidr);
    const host = subnet.nextHost++;
    const n: Eni = {
      id: `eni-${hex(17)}`,
      subnetId: subnet.id,
      groupIds,
      ip: intIp((c?.base ?? 0) + host),
      mac: `02:00:00:${hex(2)}:${hex(2)}:${hex(2)}`,
      primary: attach !== undefined,
      attachment: attach ? { id: `eni-attach-${hex(17)}`, ...attach } : undefined,
      tags: eniTags,
    };
    this.enis.set(n.id, n);
    return n;
  }

  private eni(id: string): Eni {
    const n = this.enis.get(id);
    if (!n || !this.eniLive(n))
      throw new Ec2Fault('InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
    return n;
  }

  actionCreateNetworkInterface(p: Params): XmlNode {
    const subnet = this.subnet(required(p, 'SubnetId'));
    const groupIds = list(p, 'SecurityGroupId');
    for (const g of groupIds) this.group(g);
    const n = this.newEni(
      subnet,
      groupIds.length > 0 ? groupIds : this.defaultGroupOf(subnet.vpcId),
      tags(p, 'network-interface'),
    );
    return { networkInterface: this.eniXml(n) };
  }

  actionDescribeNetworkInterfaces(p: Params): XmlNode {
    const live = [...this.enis.values()].filter((n) => this.eniLive(n));
    const found = this.select(
      p,
      'NetworkInterfaceId',
      live,
      (id) => this.eni(id),
      (n) => ({
        'network-interface-id': n.id,
        'subnet-id': n.subnetId,
        'attachment.instance-id': n.attachment?.instanceId,
        status: n.attachment ? 'in-use' : 'available',
      }),
    );
    return { networkInterfaceSet: found.map((n) => this.eniXml(n)) };
  }

  actionAttachNetworkInterface(p: Params): XmlNode {
    const n = this.eni(required(p, 'NetworkInterfaceId'));
    const i = this.instance(required(p, 'InstanceId'));
    const deviceIndex = Number(required(p, 'DeviceIndex'));
    if (n.attachment) throw new Ec2Fault('InvalidNetworkInterface.InUse', `Interface: [${n.id}] in use.`);
    if (
      [...this.enis.values()].some((e) => e.attachment?.instanceId === i.id && e.attachment.deviceIndex === deviceIndex)
    )
      throw new Ec2Fault(
        'InvalidParameterValue',
        `Instance '${i.id}' already has an interface attached at device index '${deviceIndex}'.`,
      );
    const s = this.subnets.get(n.subnetId);
    if (s?.vpcId !== this.subnets.get(i.subnetId)?.vpcId)
      throw new Ec2Fault(
        'InvalidParameterCombination',
        `The network interface and the instance belong to different networks.`,
      );
    n.attachment = { id: `eni-attach-${hex(17)}`, instanceId: i.id, deviceIndex };
    return { attachmentId: n.attachment.id, networkCardIndex: 0 };
  }

  actionDetachNetworkInterface(p: Params): XmlNode {
    const id = required(p, 'AttachmentId');
    const n = [...this.enis.values()].find((e) => e.attachment?.id === id);
    if (!n) throw new Ec2Fault('InvalidAttachmentID.NotFound', `Interface attachment '${id}' does not exist`);
    if (n.primary)
      throw new Ec2Fault('OperationNotPermitted', 'The network interface at device index 0 cannot be detached.');
    n.attachment = undefined;
    return { return: true };
  }

  actionDeleteNetworkInterface(p: Params): XmlNode {
    const n = this.eni(required(p, 'NetworkInterfaceId'));
    if (n.attachment)
      throw new Ec2Fault('InvalidNetworkInterface.InUse', `Network interface '${n.id}' is currently in use.`);
    this.enis.delete(n.id);
    return { return: true };
  }

  // ---- Tags -----------------------------------------------------------------------------------

  private taggable(id: string): { tags: Tags } {
    const r =
      this.vpcs.get(id) ?? this.groups.get(id) ?? this.subnets.get(id) ?? this.instances.get(id) ?? this.enis.get(id);
    if (!r) {
      const prefix = id.split('-')[0] ?? id;
      const kind: Record<string, string> = {
        vpc: 'InvalidVpcID.NotFound',
        sg: 'InvalidGroup.NotFound',
        subnet: 'InvalidSubnetID.NotFound',
        i: 'InvalidInstanceID.NotFound',
        eni: 'InvalidNetworkInterfaceID.NotFound',
      };
      throw new Ec2Fault(kind[prefix] ?? 'InvalidID', `The ID '${id}' is not valid`);
    }
    return r;
  }

  actionCreateTags(p: Params): XmlNode {
    const targets = list(p, 'ResourceId').map((id) => this.taggable(id));
    const add = tags(p);
    for (const t of targets) Object.assign(t.tags, add);
    return { return: true };
  }

  actionDeleteTags(p: Params): XmlNode {
    const targets = list(p, 'ResourceId').map((id) => this.taggable(id));
    const keys = Object.keys(tags(p));
    for (const t of targets) for (const k of keys) delete t.tags[k];
    return { return: true };
  }
}
