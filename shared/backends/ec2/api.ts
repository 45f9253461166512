/**
 * The EC2 port: the subset of the EC2 API the driver uses, in the driver's own terms. The core
 * never imports the AWS SDK (see .dependency-cruiser.cjs); the production implementation over
 * @aws-sdk/client-ec2 lives at the edge (shared/adapters/ec2/sdk-api.ts), and the same port is
 * spoken by moto_server and the local stand-in (infra/local/standins/ec2/) over the query API.
 */

/** Tags of a resource, key -> value. */
export type Tags = Readonly<Record<string, string>>;

/** An EC2 filter (`tag:xos:id`, `vpc-id`, `name` ...). */
export interface Filter {
  readonly name: string;
  readonly values: readonly string[];
}

/** A VPC. */
export interface Vpc {
  readonly id: string;
  readonly cidr: string;
  readonly state: string;
  readonly tags: Tags;
}

/** One ingress permission: a protocol and port range from CIDRs and/or security groups. */
export interface IngressRule {
  /** tcp, udp, icmp or -1 (all). */
  readonly protocol: string;
  readonly fromPort?: number;
  readonly toPort?: number;
  readonly cidrs: readonly string[];
  readonly groups: readonly string[];
}

/** A security group. */
export interface SecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly vpcId?: string;
  readonly ingress: readonly IngressRule[];
  readonly tags: Tags;
}

/** A subnet. */
export interface Subnet {
  readonly id: string;
  readonly vpcId: string;
  readonly cidr: string;
  readonly state: string;
  readonly tags: Tags;
}

/** An AMI. */
export interface MachineImage {
  readonly id: string;
  readonly name?: string;
  readonly state: string;
  readonly creationDate?: string;
}

/** A network interface attachment. */
export interface Attachment {
  readonly id: string;
  readonly instanceId?: string;
  readonly deviceIndex: number;
  readonly status?: string;
}

/** A network interface (ENI). */
export interface NetworkInterface {
  readonly id: string;
  readonly subnetId: string;
  readonly status: string;
  readonly privateIp?: string;
  readonly mac?: string;
  readonly attachment?: Attachment;
  readonly tags: Tags;
}

/** An instance. */
export interface Ec2Instance {
  readonly id: string;
  /** pending, running, shutting-down, terminated, stopping, stopped. */
  readonly state: string;
  readonly type: string;
  readonly imageId: string;
  readonly subnetId?: string;
  readonly vpcId?: string;
  readonly privateIp?: string;
  readonly stateReason?: string;
  readonly interfaces: readonly NetworkInterface[];
  readonly tags: Tags;
}

/** What RunInstances is asked for (always exactly one instance). */
export interface RunInstanceRequest {
  readonly imageId: string;
  readonly instanceType: string;
  readonly subnetId: string;
  readonly securityGroupIds: readonly string[];
  /** Idempotency token: a retried request with the same token launches nothing new. */
  readonly clientToken: string;
  /** Base64 user data. */
  readonly userData?: string;
  readonly tags: Tags;
}

/** The EC2 calls the driver makes. Failures are thrown as Ec2Error. */
export interface Ec2Api {
  describeVpcs(filters: readonly Filter[]): Promise<Vpc[]>;
  createVpc(cidr: string, tags: Tags): Promise<Vpc>;
  deleteVpc(id: string): Promise<void>;
  describeSecurityGroups(filters: readonly Filter[]): Promise<SecurityGroup[]>;
  createSecurityGroup(req: { name: string; description: string; vpcId: string; tags: Tags }): Promise<string>;
  authorizeIngress(groupId: string, rules: readonly IngressRule[]): Promise<void>;
  revokeIngress(groupId: string, rules: readonly IngressRule[]): Promise<void>;
  deleteSecurityGroup(id: string): Promise<void>;
  describeSubnets(filters: readonly Filter[]): Promise<Subnet[]>;
  createSubnet(req: { vpcId: string; cidr: string; tags: Tags }): Promise<Subnet>;
  deleteSubnet(id: string): Promise<void>;
  describeImages(req: { ids?: readonly string[]; filters?: readonly Filter[] }): Promise<MachineImage[]>;
  runInstance(req: RunInstanceRequest): Promise<Ec2Instance>;
  describeInstances(filters: readonly Filter[]): Promise<Ec2Instance[]>;
  terminateInstances(ids: readonly string[]): Promise<void>;
  describeNetworkInterfaces(filters: readonly Filter[]): Promise<NetworkInterface[]>;
  createNetworkInterface(req: { subnetId: string; groupIds: readonly string[]; tags: Tags }): Promise<NetworkInterface>;
  attachNetworkInterface(req: { interfaceId: string; instanceId: string; deviceIndex: number }): Promise<string>;
  detachNetworkInterface(attachmentId: string): Promise<void>;
  deleteNetworkInterface(id: string): Promise<void>;
  createTags(resourceIds: readonly string[], tags: Tags): Promise<void>;
  deleteTags(resourceIds: readonly string[], keys: readonly string[]): Promise<void>;
}

/** Where and as whom to reach EC2 (from the Controller and its secret). */
export interface Ec2Connection {
  /** Endpoint override (moto, the stand-in); undefined: the region's public endpoint. */
  readonly endpoint?: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** Per-request timeout. */
  readonly timeoutMs?: number;
}

/** Builds the port for one connection. */
export type Ec2Connector = (connection: Ec2Connection) => Ec2Api;

/** What EC2 answered when a call failed: its error code and message, or a transport failure. */
export class Ec2Error extends Error {
  constructor(
    message: string,
    /** The EC2 error code (`InvalidVpcID.NotFound`); undefined for transport failures. */
    readonly code: string | undefined,
    readonly status?: number,
    options?: { cause?: unknown; network?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Ec2Error';
    this.network = options?.network ?? false;
  }

  /** A transport failure (refused, reset, timed out). */
  readonly network: boolean;
}
