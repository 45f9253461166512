/**
 * The EC2 port over @aws-sdk/client-ec2: the production Ec2Api, also used against moto_server
 * and the local stand-in (the endpoint override). SDK errors become Ec2Error with EC2's own code
 * and message; classification into retryable/terminal happens in shared/backends/failures.ts.
 * The SDK retries once on its own (throttling, 5xx, timeouts); the synchronizer retries beyond that.
 */
import {
  AttachNetworkInterfaceCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkInterfaceCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DeleteTagsCommand,
  DeleteVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  DetachNetworkInterfaceCommand,
  EC2Client,
  type InstanceNetworkInterface,
  type IpPermission,
  type ResourceType,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  type Filter as SdkFilter,
  type Image as SdkImage,
  type Instance as SdkInstance,
  type NetworkInterface as SdkNetworkInterface,
  type SecurityGroup as SdkSecurityGroup,
  type Subnet as SdkSubnet,
  type Vpc as SdkVpc,
  type Tag,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  type Ec2Api,
  type Ec2Connection,
  Ec2Error,
  type Filter,
  type IngressRule,
  type NetworkInterface,
  type Subnet,
  type Tags,
  type Vpc,
} from '../../backends/ec2/api';
import { makeEc2Backend } from '../../backends/ec2/driver';
import type { BackendFactory } from '../../backends/router';

const toFilters = (filters: readonly Filter[]): SdkFilter[] =>
  filters.map((f) => ({ Name: f.name, Values: [...f.values] }));

const tagsOf = (tags: readonly Tag[] | undefined): Tags =>
  Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

/** Tags applied atomically with the create (none: no specification, which EC2 would reject as empty). */
const tagSpec = (type: ResourceType, tags: Tags) =>
  Object.keys(tags).length === 0
    ? undefined
    : [{ ResourceType: type, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }];

/** The fields VPCs and subnets share. */
const addressed = (id?: string, cidr?: string, state?: string, tags?: Tag[]) => ({
  id: id ?? '',
  cidr: cidr ?? '',
  state: state ?? '',
  tags: tagsOf(tags),
});

const vpcOf = (v: SdkVpc): Vpc => addressed(v.VpcId, v.CidrBlock, v.State, v.Tags);

const subnetOf = (s: SdkSubnet): Subnet => ({
  ...addressed(s.SubnetId, s.CidrBlock, s.State, s.Tags),
  vpcId: s.VpcId ?? '',
});

const ruleOf = (p: IpPermission): IngressRule => ({
  protocol: p.IpProtocol ?? '-1',
  fromPort: p.FromPort,
  toPort: p.ToPort,
  cidrs: (p.IpRanges ?? []).map((r) => r.CidrIp ?? ''),
  groups: (p.UserIdGroupPairs ?? []).map((g) => g.GroupId ?? ''),
});

const permissionOf = (r: IngressRule): IpPermission => ({
  IpProtocol: r.protocol,
  FromPort: r.fromPort,
  ToPort: r.toPort,
  IpRanges: r.cidrs.length > 0 ? r.cidrs.map((CidrIp) => ({ CidrIp })) : undefined,
  UserIdGroupPairs: r.groups.length > 0 ? r.groups.map((GroupId) => ({ GroupId })) : undefined,
});

const interfaceOf = (n: SdkNetworkInterface | InstanceNetworkInterface): NetworkInterface => ({
  id: n.NetworkInterfaceId ?? '',
  subnetId: n.SubnetId ?? '',
  status: n.Status ?? '',
  privateIp: n.PrivateIpAddress,
  mac: n.MacAddress,
  attachment: n.Attachment
    ? {
        id: n.Attachment.AttachmentId ?? '',
        instanceId: 'InstanceId' in n.Attachment ? n.Attachment.InstanceId : undefined,
        deviceIndex: n.Attachment.DeviceIndex ?? 0,
        status: n.Attachment.Status,
      }
    : undefined,
  tags: tagsOf('TagSet' in n ? n.TagSet : undefined),
});

const instanceOf = (i: SdkInstance) => ({
  id: i.InstanceId ?? '',
  state: i.State?.Name ?? '',
  type: i.InstanceType ?? '',
  imageId: i.ImageId ?? '',
  subnetId: i.SubnetId,
  vpcId: i.VpcId,
  privateIp: i.PrivateIpAddress,
  stateReason: i.StateReason?.Message || undefined,
  interfaces: (i.NetworkInterfaces ?? []).map(interfaceOf),
  tags: tagsOf(i.Tags),
});

/** Turn whatever the SDK threw into an Ec2Error carrying EC2's code and message. */
function ec2Error(err: unknown): Ec2Error {
  if (err instanceof Ec2Error) return err;
  const e = err as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const message = e.message ?? String(err);
  if (status === undefined) {
    // No HTTP answer: refused, reset, DNS, timeout.
    return new Ec2Error(message, undefined, undefined, { cause: err, network: true });
  }
  return new Ec2Error(message, e.Code ?? e.name, status, { cause: err });
}

/** The port over one EC2 client. */
export function sdkEc2Api(connection: Ec2Connection): Ec2Api {
  const client = new EC2Client({
    region: connection.region,
    endpoint: connection.endpoint,
    credentials: {
      accessKeyId: connection.accessKeyId,
      secretAccessKey: connection.secretAccessKey,
      sessionToken: connection.sessionToken,
    },
    maxAttempts: 2,
    requestHandler: {
      requestTimeout: connection.timeoutMs ?? 20_000,
      connectionTimeout: 5_000,
      // A hung request fails (retryably) instead of hanging the step.
      throwOnRequestTimeout: true,
    },
  });
  // biome-ignore lint/suspicious/noExplicitAny: every command goes through the one client
  const send = async <T>(command: any): Promise<T> => {
    try {
      return (await client.send(command)) as T;
    } catch (err) {
      throw ec2Error(err);
    }
  };
  return {
    async describeVpcs(filters) {
      const out = await send<{ Vpcs?: SdkVpc[] }>(new DescribeVpcsCommand({ Filters: toFilters(filters) }));
      return (out.Vpcs ?? []).map(vpcOf);
    },
    async createVpc(cidr, tags) {
      const out = await send<{ Vpc?: SdkVpc }>(
        new CreateVpcCommand({ CidrBlock: cidr, TagSpecifications: tagSpec('vpc', tags) }),
      );
      return vpcOf(out.Vpc ?? {});
    },
    async deleteVpc(id) {
      await send(new DeleteVpcCommand({ VpcId: id }));
    },
    async describeSecurityGroups(filters) {
      const out = await send<{ SecurityGroups?: SdkSecurityGroup[] }>(
        new DescribeSecurityGroupsCommand({ Filters: toFilters(filters) }),
      );
      return (out.SecurityGroups ?? []).map((g) => ({
        id: g.GroupId ?? '',
        name: g.GroupName ?? '',
        vpcId: g.VpcId,
        ingress: (g.IpPermissions ?? []).map(ruleOf),
        tags: tagsOf(g.Tags),
      }));
    },
    async createSecurityGroup(req) {
      const out = await send<{ GroupId?: string }>(
        new CreateSecurityGroupCommand({
          GroupName: req.name,
          Description: req.description,
          VpcId: req.vpcId,
          TagSpecifications: tagSpec('security-group', req.tags),
        }),
      );
      return out.GroupId ?? '';
    },
    async authorizeIngress(groupId, rules) {
      await send(
        new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map(permissionOf) }),
      );
    },
    async revokeIngress(groupId, rules) {
      await send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.map(permissionOf) }));
    },
    async deleteSecurityGroup(id) {
      await send(new DeleteSecurityGroupCommand({ GroupId: id }));
    },
    async describeSubnets(filters) {
      const out = await send<{ Subnets?: SdkSubnet[] }>(new DescribeSubnetsCommand({ Filters: toFilters(filters) }));
      return (out.Subnets ?? []).map(subnetOf);
    },
    async createSubnet(req) {
      const out = await send<{ Subnet?: SdkSubnet }>(
        new CreateSubnetCommand({
          VpcId: req.vpcId,
          CidrBlock: req.cidr,
          TagSpecifications: tagSpec('subnet', req.tags),
        }),
      );
      return subnetOf(out.Subnet ?? {});
    },
    async deleteSubnet(id) {
      await send(new DeleteSubnetCommand({ SubnetId: id }));
    },
    async describeImages(req) {
      const out = await send<{ Images?: SdkImage[] }>(
        new DescribeImagesCommand({
          ImageIds: req.ids ? [...req.ids] : undefined,
          Filters: req.filters ? toFilters(req.filters) : undefined,
        }),
      );
      return (out.Images ?? []).map((i) => ({
        id: i.ImageId ?? '',
        name: i.Name,
        state: i.State ?? '',
        creationDate: i.CreationDate,
      }));
    },
    async runInstance(req) {
      const out = await send<{ Instances?: SdkInstance[] }>(
        new RunInstancesCommand({
          ImageId: req.imageId,
          InstanceType: req.instanceType as never,
          MinCount: 1,
          MaxCount: 1,
          SubnetId: req.subnetId,
          SecurityGroupIds: [...req.securityGroupIds],
          ClientToken: req.clientToken,
          UserData: req.userData,
          TagSpecifications: tagSpec('instance', req.tags),
        }),
      );
      const instance = out.Instances?.[0];
      if (!instance) throw new Ec2Error('RunInstances returned no instance', 'InternalError', 500);
      return instanceOf(instance);
    },
    async describeInstances(filters) {
      const out = await send<{ Reservations?: { Instances?: SdkInstance[] }[] }>(
        new DescribeInstancesCommand({ Filters: toFilters(filters) }),
      );
      return (out.Reservations ?? []).flatMap((r) => (r.Instances ?? []).map(instanceOf));
    },
    async terminateInstances(ids) {
      await send(new TerminateInstancesCommand({ InstanceIds: [...ids] }));
    },
    async describeNetworkInterfaces(filters) {
      const out = await send<{ NetworkInterfaces?: SdkNetworkInterface[] }>(
        new DescribeNetworkInterfacesCommand({ Filters: toFilters(filters) }),
      );
      return (out.NetworkInterfaces ?? []).map(interfaceOf);
    },
    async createNetworkInterface(req) {
      const out = await send<{ NetworkInterface?: SdkNetworkInterface }>(
        new CreateNetworkInterfaceCommand({
          SubnetId: req.subnetId,
          Groups: [...req.groupIds],
          TagSpecifications: tagSpec('network-interface', req.tags),
        }),
      );
      return interfaceOf(out.NetworkInterface ?? {});
    },
    async attachNetworkInterface(req) {
      const out = await send<{ AttachmentId?: string }>(
        new AttachNetworkInterfaceCommand({
          NetworkInterfaceId: req.interfaceId,
          InstanceId: req.instanceId,
          DeviceIndex: req.deviceIndex,
        }),
      );
      return out.AttachmentId ?? '';
    },
    async detachNetworkInterface(attachmentId) {
      await send(new DetachNetworkInterfaceCommand({ AttachmentId: attachmentId, Force: true }));
    },
    async deleteNetworkInterface(id) {
      await send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: id }));
    },
    async createTags(resourceIds, tags) {
      await send(
        new CreateTagsCommand({
          Resources: [...resourceIds],
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    },
    async deleteTags(resourceIds, keys) {
      await send(new DeleteTagsCommand({ Resources: [...resourceIds], Tags: keys.map((Key) => ({ Key })) }));
    },
  };
}

/** The EC2 back-end factory of production and the local runtime (registered in shared/adapters/backend-factories.ts). */
export const ec2Backend: BackendFactory = makeEc2Backend(sdkEc2Api);
