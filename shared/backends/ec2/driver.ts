/**
 * The EC2 driver (DESIGN section 9): ControllerSlice -> VPC + security group, ControllerNetwork ->
 * subnet, ControllerImage -> AMI lookup, Instance -> RunInstances (Flavor -> instance type),
 * Port -> network interface. Every resource carries the tags `xos:id` and `xos:kind` and is found
 * by `xos:id` before anything is created, so a retry after a crash never duplicates; RunInstances
 * also carries a ClientToken, so an SDK retry of a launch whose answer was lost launches nothing
 * new. Relatives in EC2 (the VPC of a network, the subnet of an instance) are found by their XOS
 * object's tag too, never through XOS feedback that might not be recorded yet.
 */
import { RetryableBackendError, TerminalBackendError } from '../../errors';
import type { StoredObject } from '../../store/store';
import type { DriverContext, ExternalClient, Handle, Observation } from '../driver';
import { backendFailure } from '../failures';
import type { Backend, BackendDeps, BackendFactory } from '../router';
import { freeSubnets, requestedSubnet, subnetAddresses, VPC_CIDR } from './addressing';
import {
  type Ec2Api,
  type Ec2Connector,
  Ec2Error,
  type Ec2Instance,
  type Filter,
  type MachineImage,
  type NetworkInterface,
  type SecurityGroup,
  type Subnet,
  type Tags,
  type Vpc,
} from './api';
import { desiredIngress, ingressDiff } from './ingress';
import { instanceTypeOf } from './instance-types';

/** Tag holding the XOS object id. */
export const TAG_ID = 'xos:id';
/** Tag holding the XOS kind. */
export const TAG_KIND = 'xos:kind';

/** What observe answers when EC2 has nothing for the object. */
const ABSENT: Observation = { exists: false, upToDate: false, settled: false };

/** Instance states that no longer count as the object's instance. */
const GONE_STATES = new Set(['shutting-down', 'terminated']);

const byTag = (id: string): Filter[] => [{ name: `tag:${TAG_ID}`, values: [id] }];

/** The tags of the resource of an object. */
export function tagsFor(obj: Pick<StoredObject, 'kind' | 'id'>, name: string): Tags {
  return { [TAG_ID]: obj.id, [TAG_KIND]: obj.kind, Name: name };
}

/** Run one EC2 call, turning its failure into the classified back-end error (failures.ts). */
export async function ec2Call<T>(action: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof Ec2Error)) throw err;
    throw backendFailure('ec2', {
      code: err.code,
      status: err.status,
      body: err.message,
      action,
      network: err.network,
    });
  }
}

/** Like ec2Call for removals: a `*.NotFound` answer means already gone. */
async function ec2Remove(action: string, fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof Ec2Error && err.code?.endsWith('.NotFound')) return;
    await ec2Call(action, () => Promise.reject(err));
  }
}

/** Duplicates of one object's resource are ordered by id; the first is the one kept. */
const canonicalFirst = <T extends { id: string }>(items: readonly T[]): T[] =>
  [...items].sort((a, b) => a.id.localeCompare(b.id));

/** Remove duplicates, best effort: what is still in use is left for the next update to retry. */
async function removeDuplicates(ids: readonly string[], remove: (id: string) => Promise<void>): Promise<void> {
  for (const id of ids) {
    try {
      await remove(id);
    } catch {
      // DependencyViolation and the like: observe keeps reporting the duplicate, update retries.
    }
  }
}

async function relatedObject(ctx: DriverContext, kind: string, id: unknown): Promise<StoredObject | undefined> {
  if (typeof id !== 'string') return undefined;
  return ctx.related.get(id) ?? (await ctx.lookup.get(kind, id));
}

async function required(ctx: DriverContext, owner: StoredObject, kind: string, id: unknown): Promise<StoredObject> {
  const found = await relatedObject(ctx, kind, id);
  if (!found) throw new TerminalBackendError(`${owner.kind} ${owner.id}: ${kind} ${String(id)} not found`);
  return found;
}

function controllerOf(ctx: DriverContext, obj: StoredObject): StoredObject {
  if (!ctx.controller) throw new TerminalBackendError(`${obj.kind} ${obj.id}: no controller resolved`);
  return ctx.controller;
}

/** The placement record of `kind` for (field = targetId) on this controller. */
async function placement(
  ctx: DriverContext,
  kind: string,
  field: string,
  targetId: string,
  controllerId: string,
): Promise<StoredObject | undefined> {
  const all = await ctx.lookup.referencing(kind, field, targetId);
  return all.find((o) => o.controller_id === controllerId);
}

/** The EC2 side of one controller: lazily connected with the controller's secret. */
export class Ec2Session {
  private api?: Promise<Ec2Api>;

  constructor(
    private readonly controller: StoredObject,
    private readonly deps: BackendDeps,
    private readonly connect: Ec2Connector,
  ) {}

  /** The connected port (one per controller version). */
  client(): Promise<Ec2Api> {
    if (!this.api) {
      this.api = this.open();
      // A failed open (secret missing for now) is retried on the next call, not cached.
      this.api.catch(() => {
        this.api = undefined;
      });
    }
    return this.api;
  }

  private async open(): Promise<Ec2Api> {
    const c = this.controller;
    const ref = typeof c.credentials_ref === 'string' ? c.credentials_ref : '';
    if (!ref) throw new TerminalBackendError(`Controller ${c.id} (ec2) has no credentials_ref`);
    const secret = await this.deps.secrets.read(ref);
    const accessKeyId = secret.access_key_id;
    const secretAccessKey = secret.secret_access_key;
    if (!accessKeyId || !secretAccessKey)
      throw new TerminalBackendError(`secret ${ref} must hold access_key_id and secret_access_key`);
    return this.connect({
      endpoint: typeof c.auth_url === 'string' && c.auth_url !== '' ? c.auth_url : undefined,
      region: typeof c.region === 'string' && c.region !== '' ? c.region : 'us-east-1',
      accessKeyId,
      secretAccessKey,
      sessionToken: secret.session_token,
    });
  }

  // ---- shared finders -------------------------------------------------------------------------

  /**
   * The VPCs tagged with the object id, canonical first. There is normally one; two executions of
   * one object racing (a lease taken over from a slow call) can each create one, since CreateVpc
   * has no ClientToken: the smallest id is kept, the others are removed by the next update.
   */
  async vpcsOf(ownerId: string): Promise<Vpc[]> {
    const api = await this.client();
    const found = await ec2Call(`find VPC of ${ownerId}`, () => api.describeVpcs(byTag(ownerId)));
    return canonicalFirst(found.filter((v) => v.state !== 'deleted'));
  }

  async vpcOf(ownerId: string): Promise<Vpc | undefined> {
    return (await this.vpcsOf(ownerId))[0];
  }

  async groupsOf(ownerId: string): Promise<SecurityGroup[]> {
    const api = await this.client();
    const found = await ec2Call(`find security group of ${ownerId}`, () => api.describeSecurityGroups(byTag(ownerId)));
    return canonicalFirst(found);
  }

  /** The object's security group in its (canonical) VPC. */
  async groupOf(ownerId: string, vpcId: string): Promise<SecurityGroup | undefined> {
    return (await this.groupsOf(ownerId)).find((g) => g.vpcId === vpcId);
  }

  /** The subnets tagged with the object id, canonical first (duplicates as for VPCs). */
  async subnetsOf(ownerId: string): Promise<Subnet[]> {
    const api = await this.client();
    const found = await ec2Call(`find subnet of ${ownerId}`, () => api.describeSubnets(byTag(ownerId)));
    return canonicalFirst(found);
  }

  async subnetOf(ownerId: string): Promise<Subnet | undefined> {
    return (await this.subnetsOf(ownerId))[0];
  }

  /** Every instance tagged with the object id, terminated ones included. */
  async instancesOf(ownerId: string): Promise<Ec2Instance[]> {
    const api = await this.client();
    return ec2Call(`find instance of ${ownerId}`, () => api.describeInstances(byTag(ownerId)));
  }

  async interfaceOf(ownerId: string): Promise<NetworkInterface | undefined> {
    const api = await this.client();
    const found = await ec2Call(`find network interface of ${ownerId}`, () =>
      api.describeNetworkInterfaces(byTag(ownerId)),
    );
    return found[0];
  }

  /** The AMI an Image names: by id when the name is an AMI id, else the newest available by name. */
  async resolveImage(image: StoredObject): Promise<MachineImage | undefined> {
    const api = await this.client();
    const name = String(image.name);
    const found = /^ami-[0-9a-f]{8,17}$/.test(name)
      ? await this.describeImageIds(api, name)
      : await ec2Call(`find AMI named ${name}`, () =>
          api.describeImages({ filters: [{ name: 'name', values: [name] }] }),
        );
    return found
      .filter((i) => i.state === 'available')
      .sort((a, b) => (b.creationDate ?? '').localeCompare(a.creationDate ?? '') || a.id.localeCompare(b.id))[0];
  }

  private async describeImageIds(api: Ec2Api, id: string): Promise<MachineImage[]> {
    try {
      return await api.describeImages({ ids: [id] });
    } catch (err) {
      if (err instanceof Ec2Error && err.code === 'InvalidAMIID.NotFound') return [];
      return ec2Call(`find AMI ${id}`, () => Promise.reject(err));
    }
  }
}

// ---- ControllerSlice: VPC + security group ------------------------------------------------------

function sliceClient(session: Ec2Session): ExternalClient {
  const slice = (obj: StoredObject, ctx: DriverContext) => required(ctx, obj, 'Slice', obj.slice_id);
  const ensure = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    const s = await slice(obj, ctx);
    const api = await session.client();
    const name = `xos-${String(s.name)}`;
    if (!(await session.vpcOf(obj.id)))
      await ec2Call(`create VPC for slice ${String(s.name)}`, () => api.createVpc(VPC_CIDR, tagsFor(obj, name)));
    // Re-read: a racing execution may have made another; everyone settles on the canonical one.
    const [vpc, ...extraVpcs] = await session.vpcsOf(obj.id);
    if (!vpc) throw new RetryableBackendError(`ControllerSlice ${obj.id}: the VPC just created is not visible yet`);
    let group = await session.groupOf(obj.id, vpc.id);
    if (!group) {
      try {
        await api.createSecurityGroup({
          name: `xos-${obj.id}`,
          description: `XOS slice ${String(s.name)}`,
          vpcId: vpc.id,
          tags: tagsFor(obj, name),
        });
      } catch (err) {
        // The group name is unique per VPC: a duplicate means a racing execution made it.
        if (!(err instanceof Ec2Error && err.code === 'InvalidGroup.Duplicate'))
          await ec2Call(`create security group for slice ${String(s.name)}`, () => Promise.reject(err));
      }
      group = await session.groupOf(obj.id, vpc.id);
      if (!group) throw new RetryableBackendError(`ControllerSlice ${obj.id}: the security group is not visible yet`);
    }
    const diff = ingressDiff(group.ingress, desiredIngress(s.exposed_ports as string | null, group.id));
    const groupId = group.id;
    if (diff.revoke.length > 0)
      await ec2Call(`revoke ingress on ${groupId}`, () => api.revokeIngress(groupId, diff.revoke));
    if (diff.authorize.length > 0)
      await ec2Call(`authorize ingress on ${groupId}`, () => api.authorizeIngress(groupId, diff.authorize));
    const extraGroups = (await session.groupsOf(obj.id)).filter((g) => g.id !== groupId);
    await removeDuplicates(
      extraGroups.map((g) => g.id),
      (id) => api.deleteSecurityGroup(id),
    );
    await removeDuplicates(
      extraVpcs.map((v) => v.id),
      (id) => api.deleteVpc(id),
    );
    return { vpc_id: vpc.id, security_group_id: groupId };
  };
  return {
    async observe(obj, ctx): Promise<Observation> {
      const vpcs = await session.vpcsOf(obj.id);
      const vpc = vpcs[0];
      const groups = vpc ? await session.groupsOf(obj.id) : [];
      const group = groups.find((g) => g.vpcId === vpc?.id);
      if (!vpc || !group) return ABSENT;
      const s = await slice(obj, ctx);
      const diff = ingressDiff(group.ingress, desiredIngress(s.exposed_ports as string | null, group.id));
      return {
        exists: true,
        upToDate: diff.authorize.length === 0 && diff.revoke.length === 0 && vpcs.length === 1 && groups.length === 1,
        settled: vpc.state === 'available',
        handle: { vpc_id: vpc.id, security_group_id: group.id },
        feedback: { tenant_id: vpc.id },
      };
    },
    create: ensure,
    update: ensure,
    async delete(obj) {
      const api = await session.client();
      for (const group of await session.groupsOf(obj.id))
        await ec2Remove(`delete security group ${group.id}`, () => api.deleteSecurityGroup(group.id));
      for (const vpc of await session.vpcsOf(obj.id))
        await ec2Remove(`delete VPC ${vpc.id}`, () => api.deleteVpc(vpc.id));
    },
  };
}

/** The slice's VPC and security group on this controller; retryable until the ControllerSlice made them. */
async function sliceNetworkOf(
  session: Ec2Session,
  ctx: DriverContext,
  obj: StoredObject,
  sliceId: string,
): Promise<{ vpc: Vpc; group: SecurityGroup }> {
  const controller = controllerOf(ctx, obj);
  const cs = await placement(ctx, 'ControllerSlice', 'slice_id', sliceId, controller.id);
  if (!cs)
    throw new RetryableBackendError(`${obj.kind} ${obj.id}: slice ${sliceId} is not placed on ${controller.id} yet`);
  const vpc = await session.vpcOf(cs.id);
  const group = vpc ? await session.groupOf(cs.id, vpc.id) : undefined;
  if (!vpc || !group) throw new RetryableBackendError(`${obj.kind} ${obj.id}: waiting for the VPC of slice ${sliceId}`);
  return { vpc, group };
}

// ---- ControllerNetwork: subnet -------------------------------------------------------------------

function networkClient(session: Ec2Session): ExternalClient {
  const network = (obj: StoredObject, ctx: DriverContext) => required(ctx, obj, 'Network', obj.network_id);
  const feedbackOf = (subnet: Subnet) => ({
    net_id: subnet.vpcId,
    subnet_id: subnet.id,
    subnet: subnet.cidr,
    ...subnetAddresses(subnet.cidr),
  });
  const ensure = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    const net = await network(obj, ctx);
    const wanted = requestedSubnet(net.subnet as string | null);
    const [existing, ...extra] = await session.subnetsOf(obj.id);
    if (existing) {
      if (wanted && existing.cidr !== wanted)
        throw new TerminalBackendError(
          `network ${String(net.name)}: EC2 cannot change a subnet's CIDR (${existing.cidr} -> ${wanted}); delete and recreate the network`,
        );
      const api = await session.client();
      await removeDuplicates(
        extra.map((x) => x.id),
        (id) => api.deleteSubnet(id),
      );
      return { subnet_id: existing.id, vpc_id: existing.vpcId };
    }
    const { vpc } = await sliceNetworkOf(session, ctx, obj, String(net.owner_id));
    const api = await session.client();
    const tags = tagsFor(obj, `xos-${String(net.name)}`);
    const create = (cidr: string) =>
      ec2Call(`create subnet ${cidr} for network ${String(net.name)}`, () =>
        api.createSubnet({ vpcId: vpc.id, cidr, tags }),
      );
    if (wanted) {
      const subnet = await create(wanted);
      return { subnet_id: subnet.id, vpc_id: vpc.id };
    }
    // First free /24; a network created concurrently in the same VPC may take it first.
    for (let attempt = 0; attempt < 4; attempt++) {
      const taken = await ec2Call(`list subnets of ${vpc.id}`, () =>
        api.describeSubnets([{ name: 'vpc-id', values: [vpc.id] }]),
      );
      const cidr = freeSubnets(taken.map((s) => s.cidr))[0];
      if (!cidr) throw new TerminalBackendError(`VPC ${vpc.id} has no free /24 left for network ${String(net.name)}`);
      try {
        const subnet = await api.createSubnet({ vpcId: vpc.id, cidr, tags });
        return { subnet_id: subnet.id, vpc_id: vpc.id };
      } catch (err) {
        if (!(err instanceof Ec2Error && err.code === 'InvalidSubnet.Conflict'))
          await ec2Call(`create subnet ${cidr} for network ${String(net.name)}`, () => Promise.reject(err));
      }
    }
    throw new RetryableBackendError(
      `network ${String(net.name)}: no free subnet after 4 attempts (concurrent creates)`,
    );
  };
  return {
    async observe(obj, ctx): Promise<Observation> {
      const subnets = await session.subnetsOf(obj.id);
      const subnet = subnets[0];
      if (!subnet) return ABSENT;
      const wanted = requestedSubnet((await network(obj, ctx)).subnet as string | null);
      return {
        exists: true,
        upToDate: (!wanted || wanted === subnet.cidr) && subnets.length === 1,
        settled: subnet.state === 'available',
        handle: { subnet_id: subnet.id, vpc_id: subnet.vpcId },
        feedback: feedbackOf(subnet),
      };
    },
    create: ensure,
    update: ensure,
    async delete(obj) {
      const api = await session.client();
      for (const subnet of await session.subnetsOf(obj.id))
        await ec2Remove(`delete subnet ${subnet.id}`, () => api.deleteSubnet(subnet.id));
    },
  };
}

// ---- ControllerImage: AMI lookup -----------------------------------------------------------------

function imageClient(session: Ec2Session): ExternalClient {
  const image = (obj: StoredObject, ctx: DriverContext) => required(ctx, obj, 'Image', obj.image_id);
  return {
    async observe(obj, ctx): Promise<Observation> {
      const ami = await session.resolveImage(await image(obj, ctx));
      if (!ami) return ABSENT;
      return {
        exists: true,
        upToDate: true,
        settled: true,
        handle: { image_id: ami.id },
        feedback: { glance_image_id: ami.id },
      };
    },
    // AMIs are looked up, never uploaded: an image EC2 does not have is the user's to fix.
    async create(obj, ctx) {
      const img = await image(obj, ctx);
      const ami = await session.resolveImage(img);
      if (!ami) throw new TerminalBackendError(`ec2: no available AMI named ${String(img.name)} in this region`);
      return { image_id: ami.id };
    },
    async update(obj, ctx) {
      return this.create(obj, ctx);
    },
    async delete() {
      // Not ours to delete.
    },
  };
}

// ---- Instance: RunInstances ----------------------------------------------------------------------

/** The ports of an instance, primary first (ordered by id, so every retry picks the same one). */
async function portsOf(ctx: DriverContext, instance: StoredObject): Promise<StoredObject[]> {
  const ports = await ctx.lookup.referencing('Port', 'instance_id', instance.id);
  return ports.sort((a, b) => a.id.localeCompare(b.id));
}

/** The subnet of a network on this controller; retryable until its ControllerNetwork made it. */
async function subnetOfNetwork(
  session: Ec2Session,
  ctx: DriverContext,
  obj: StoredObject,
  networkId: string,
): Promise<Subnet> {
  const controller = controllerOf(ctx, obj);
  const cn = await placement(ctx, 'ControllerNetwork', 'network_id', networkId, controller.id);
  const subnet = cn ? await session.subnetOf(cn.id) : undefined;
  if (!subnet) throw new RetryableBackendError(`${obj.kind} ${obj.id}: waiting for the subnet of network ${networkId}`);
  return subnet;
}

function instanceClient(session: Ec2Session): ExternalClient {
  // Two live instances for one object can only come from racing launches where EC2 ignored the
  // ClientToken (moto does): the smallest id is kept, update terminates the others.
  const live = async (obj: StoredObject) =>
    canonicalFirst((await session.instancesOf(obj.id)).filter((i) => !GONE_STATES.has(i.state)));
  const handleOf = (i: Ec2Instance): Handle => ({ instance_id: i.id });
  const create = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    const all = await session.instancesOf(obj.id);
    const [running, ...extra] = canonicalFirst(all.filter((i) => !GONE_STATES.has(i.state)));
    if (running) {
      if (extra.length > 0) {
        const api = await session.client();
        await ec2Call(`terminate duplicate instances of ${obj.id}`, () =>
          api.terminateInstances(extra.map((i) => i.id)),
        );
      }
      return handleOf(running);
    }
    const [slice, image, flavor] = await Promise.all([
      required(ctx, obj, 'Slice', obj.slice_id),
      required(ctx, obj, 'Image', obj.image_id),
      required(ctx, obj, 'Flavor', obj.flavor_id),
    ]);
    const { group } = await sliceNetworkOf(session, ctx, obj, slice.id);
    const [primary] = await portsOf(ctx, obj);
    if (!primary)
      throw new TerminalBackendError(
        `Instance ${obj.id}: slice ${String(slice.name)} has no network on this controller (an EC2 instance needs a subnet)`,
      );
    const subnet = await subnetOfNetwork(session, ctx, obj, String(primary.network_id));
    const controller = controllerOf(ctx, obj);
    const ci = await placement(ctx, 'ControllerImage', 'image_id', image.id, controller.id);
    const amiId =
      (typeof ci?.glance_image_id === 'string' && ci.glance_image_id) || (await session.resolveImage(image))?.id;
    if (!amiId) throw new TerminalBackendError(`Instance ${obj.id}: no available AMI named ${String(image.name)}`);
    const api = await session.client();
    const name = `${String(slice.name)}-${obj.id}`;
    const userData = typeof obj.userData === 'string' && obj.userData !== '' ? obj.userData : undefined;
    const launched = await ec2Call(`run instance ${name}`, () =>
      api.runInstance({
        imageId: amiId,
        instanceType: instanceTypeOf(flavor),
        subnetId: subnet.id,
        securityGroupIds: [group.id],
        // Same object, version and number of earlier (terminated) instances -> same token, so an
        // SDK retry is a no-op; after an out-of-band termination a new token launches a new one.
        clientToken: `xos-${obj.id}-v${obj.version}-n${all.length}`.slice(0, 64),
        userData: userData ? Buffer.from(userData, 'utf8').toString('base64') : undefined,
        tags: tagsFor(obj, name),
      }),
    );
    return handleOf(launched);
  };
  return {
    async observe(obj): Promise<Observation> {
      const [instance, ...extra] = await live(obj);
      if (!instance) return ABSENT;
      return {
        exists: true,
        // Instance type and image changes need a stop/replace; the driver leaves a running instance as is.
        upToDate: extra.length === 0,
        settled: instance.state === 'running',
        handle: handleOf(instance),
        feedback: {
          instance_id: instance.id,
          instance_name: instance.tags.Name ?? instance.id,
          ...(instance.privateIp ? { ip: instance.privateIp } : {}),
        },
      };
    },
    create,
    update: create,
    async delete(obj) {
      const ids = (await live(obj)).map((i) => i.id);
      const handleId = (obj.backend_handle as Handle | null)?.instance_id;
      if (typeof handleId === 'string' && !ids.includes(handleId) && ids.length === 0) ids.push(handleId);
      if (ids.length === 0) return;
      const api = await session.client();
      await ec2Remove(`terminate ${ids.join(', ')}`, () => api.terminateInstances(ids));
    },
  };
}

// ---- Port: network interface ---------------------------------------------------------------------

function portClient(session: Ec2Session): ExternalClient {
  const instanceIn = async (obj: StoredObject, ctx: DriverContext): Promise<Ec2Instance> => {
    const inst = await required(ctx, obj, 'Instance', obj.instance_id);
    const found = (await session.instancesOf(inst.id)).find((i) => !GONE_STATES.has(i.state));
    if (!found) throw new RetryableBackendError(`Port ${obj.id}: waiting for the EC2 instance of Instance ${inst.id}`);
    return found;
  };
  const ensure = async (obj: StoredObject, ctx: DriverContext): Promise<Handle> => {
    const instance = await instanceIn(obj, ctx);
    const api = await session.client();
    let eni = await session.interfaceOf(obj.id);
    if (!eni) {
      const subnet = await subnetOfNetwork(session, ctx, obj, String(obj.network_id));
      // The instance's primary interface already sits in the subnet of its first port: adopt it.
      const primary = instance.interfaces.find((n) => n.attachment?.deviceIndex === 0);
      if (primary && primary.subnetId === subnet.id && !primary.tags[TAG_ID]) {
        await ec2Call(`tag interface ${primary.id}`, () =>
          api.createTags([primary.id], tagsFor(obj, `xos-port-${obj.id}`)),
        );
        return { interface_id: primary.id };
      }
      const { group } = await sliceNetworkOf(
        session,
        ctx,
        obj,
        String((await required(ctx, obj, 'Instance', obj.instance_id)).slice_id),
      );
      eni = await ec2Call(`create interface for port ${obj.id}`, () =>
        api.createNetworkInterface({
          subnetId: subnet.id,
          groupIds: [group.id],
          tags: tagsFor(obj, `xos-port-${obj.id}`),
        }),
      );
    }
    if (eni.attachment?.instanceId !== instance.id) {
      const used = instance.interfaces.map((n) => n.attachment?.deviceIndex ?? 0);
      const interfaceId = eni.id;
      await ec2Call(`attach interface ${interfaceId} to ${instance.id}`, () =>
        api.attachNetworkInterface({ interfaceId, instanceId: instance.id, deviceIndex: Math.max(0, ...used) + 1 }),
      );
    }
    return { interface_id: eni.id };
  };
  return {
    async observe(obj, ctx): Promise<Observation> {
      const eni = await session.interfaceOf(obj.id);
      if (!eni) return ABSENT;
      const instance = await instanceIn(obj, ctx);
      const attached = eni.attachment?.instanceId === instance.id || instance.interfaces.some((n) => n.id === eni.id);
      return {
        exists: true,
        upToDate: attached,
        settled: attached,
        handle: { interface_id: eni.id },
        feedback: { port_id: eni.id },
      };
    },
    create: ensure,
    update: ensure,
    async delete(obj) {
      const eni = await session.interfaceOf(obj.id);
      if (!eni) return;
      const api = await session.client();
      if (eni.attachment?.deviceIndex === 0) {
        // The instance's primary interface goes with the instance: only give the adoption back.
        await ec2Remove(`untag interface ${eni.id}`, () => api.deleteTags([eni.id], [TAG_ID, TAG_KIND, 'Name']));
        return;
      }
      const attachment = eni.attachment;
      if (attachment) await ec2Remove(`detach interface ${eni.id}`, () => api.detachNetworkInterface(attachment.id));
      await ec2Remove(`delete interface ${eni.id}`, () => api.deleteNetworkInterface(eni.id));
    },
  };
}

/** The EC2 back-end of one controller, over a given connector (the SDK in production). */
export function makeEc2Backend(connect: Ec2Connector): BackendFactory {
  return (controller: StoredObject, deps: BackendDeps): Backend => {
    const session = new Ec2Session(controller, deps, connect);
    const clients: Record<string, ExternalClient> = {
      ControllerSlice: sliceClient(session),
      ControllerNetwork: networkClient(session),
      ControllerImage: imageClient(session),
      Instance: instanceClient(session),
      Port: portClient(session),
    };
    return { client: (kind) => clients[kind] };
  };
}
