/**
 * The EC2 contract suite: the EC2 driver (over the real SDK) and the raw port against one EC2
 * target. It runs unchanged against the local stand-in and against moto_server, so what the
 * stand-in answers is proven to be what an EC2 implementation answers, not assumed.
 */
import { randomBytes } from 'node:crypto';
import { sdkEc2Api } from '../../../shared/adapters/ec2/sdk-api';
import type { DriverContext, ExternalClient, ObjectLookup, Observation } from '../../../shared/backends/driver';
import type { Ec2Api } from '../../../shared/backends/ec2/api';
import { Ec2Error } from '../../../shared/backends/ec2/api';
import { makeEc2Backend, TAG_ID, TAG_KIND } from '../../../shared/backends/ec2/driver';
import type { Backend } from '../../../shared/backends/router';
import { RetryableBackendError, TerminalBackendError } from '../../../shared/errors';
import { MemorySecrets } from '../../../shared/secrets/secrets';
import type { StoredObject } from '../../../shared/store/store';
import { eventually } from '../../helpers/sync-stack';

/** An EC2 implementation to run the contract against. */
export interface Ec2Target {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** An AMI present on every target (one of moto's built-in AMIs, seeded in the stand-in too). */
export const KNOWN_AMI = { id: 'ami-760aaa0f', name: 'amzn-ami-hvm-2017.09.1.20171103-x86_64-gp2' };

const newId = () => randomBytes(8).toString('hex').toUpperCase();

/** A tiny in-memory model: objects by id, with the driver context's lookups over them. */
export class FakeModel implements ObjectLookup {
  readonly objects = new Map<string, StoredObject>();

  add(kind: string, fields: Record<string, unknown>): StoredObject {
    const obj = { kind, id: newId(), version: 1, deleted: false, ...fields } as unknown as StoredObject;
    this.objects.set(obj.id, obj);
    return obj;
  }

  bump(obj: StoredObject, fields: Record<string, unknown>): StoredObject {
    const next = { ...obj, ...fields, version: obj.version + 1 } as StoredObject;
    this.objects.set(obj.id, next);
    return next;
  }

  async get(_kind: string, id: string) {
    return this.objects.get(id);
  }

  async referencing(kind: string, field: string, targetId: string) {
    return [...this.objects.values()].filter((o) => o.kind === kind && o[field] === targetId && !o.deleted);
  }

  ctx(controller: StoredObject): DriverContext {
    return { related: new Map(), lookup: this, controller };
  }
}

/** The contract, registered as a describe block for one target. */
export function ec2Contract(name: string, start: () => Promise<Ec2Target & { stop(): Promise<void> }>): void {
  describe(`EC2 contract: ${name}`, () => {
    let target: Ec2Target & { stop(): Promise<void> };
    let api: Ec2Api;
    let backend: Backend;
    let model: FakeModel;
    let controller: StoredObject;
    const client = (kind: string): ExternalClient => {
      const c = backend.client(kind);
      if (!c) throw new Error(`no EC2 client for ${kind}`);
      return c;
    };

    beforeAll(async () => {
      target = await start();
      api = sdkEc2Api({ ...target, timeoutMs: 10_000 });
      const secrets = new MemorySecrets();
      secrets.set('ec2-contract', { access_key_id: target.accessKeyId, secret_access_key: target.secretAccessKey });
      model = new FakeModel();
      controller = model.add('Controller', {
        name: 'ec2-contract',
        backend_type: 'ec2',
        auth_url: target.endpoint,
        region: target.region,
        credentials_ref: 'ec2-contract',
      });
      backend = makeEc2Backend(sdkEc2Api)(controller, { secrets });
    }, 30_000);

    afterAll(async () => {
      await target?.stop();
    });

    // One slice with two networks, two instances and their ports, walked through its life.
    let slice: StoredObject;
    let cs: StoredObject;
    const nets: StoredObject[] = [];
    const cns: StoredObject[] = [];
    let image: StoredObject;
    let flavor: StoredObject;
    let instance: StoredObject;
    const ports: StoredObject[] = [];

    const observe = (kind: string, obj: StoredObject): Promise<Observation> =>
      client(kind).observe(obj, model.ctx(controller));
    const create = (kind: string, obj: StoredObject) => client(kind).create(obj, model.ctx(controller));

    test('errors come back as EC2 codes with EC2 messages', async () => {
      const err = await api.deleteVpc('vpc-0123456789abcdef0').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Ec2Error);
      expect((err as Ec2Error).code).toBe('InvalidVpcID.NotFound');
      expect((err as Ec2Error).status).toBe(400);
      expect((err as Ec2Error).message).toContain('vpc-0123456789abcdef0');
      const missing = await api.terminateInstances(['i-0123456789abcdef0']).catch((e: unknown) => e);
      expect((missing as Ec2Error).code).toBe('InvalidInstanceID.NotFound');
    });

    test('ControllerSlice -> a tagged VPC and security group with the exposed ports, found (not duplicated) on retry', async () => {
      slice = model.add('Slice', { name: `s${newId().toLowerCase()}`, exposed_ports: 'tcp 22, udp 53' });
      cs = model.add('ControllerSlice', { slice_id: slice.id, controller_id: controller.id });
      expect((await observe('ControllerSlice', cs)).exists).toBe(false);
      const handle = await create('ControllerSlice', cs);
      const again = await create('ControllerSlice', cs);
      expect(again).toEqual(handle);
      const vpcs = await api.describeVpcs([{ name: `tag:${TAG_ID}`, values: [cs.id] }]);
      expect(vpcs).toHaveLength(1);
      expect(vpcs[0]?.tags[TAG_KIND]).toBe('ControllerSlice');
      expect(vpcs[0]?.cidr).toBe('10.0.0.0/16');
      const seen = await observe('ControllerSlice', cs);
      expect(seen).toMatchObject({ exists: true, upToDate: true, settled: true, feedback: { tenant_id: vpcs[0]?.id } });
      const [group] = await api.describeSecurityGroups([{ name: `tag:${TAG_ID}`, values: [cs.id] }]);
      const open = (group?.ingress ?? []).filter((r) => r.cidrs.includes('0.0.0.0/0'));
      expect(open.map((r) => `${r.protocol} ${r.fromPort}-${r.toPort}`).sort()).toEqual(['tcp 22-22', 'udp 53-53']);
      expect(group?.ingress.some((r) => r.protocol === '-1' && r.groups.includes(group.id))).toBe(true);
    });

    test('a change of exposed ports is seen as drift and converged by update', async () => {
      slice = model.bump(slice, { exposed_ports: 'tcp 80, tcp 8000-8010' });
      expect((await observe('ControllerSlice', cs)).upToDate).toBe(false);
      await client('ControllerSlice').update(cs, model.ctx(controller));
      expect((await observe('ControllerSlice', cs)).upToDate).toBe(true);
      const [group] = await api.describeSecurityGroups([{ name: `tag:${TAG_ID}`, values: [cs.id] }]);
      const open = (group?.ingress ?? []).filter((r) => r.cidrs.includes('0.0.0.0/0'));
      expect(open.map((r) => `${r.protocol} ${r.fromPort}-${r.toPort}`).sort()).toEqual(['tcp 80-80', 'tcp 8000-8010']);
    });

    test('a duplicate VPC (two racing executions) is seen as drift and removed by update', async () => {
      const [kept] = await api.describeVpcs([{ name: `tag:${TAG_ID}`, values: [cs.id] }]);
      const dup = await api.createVpc('10.0.0.0/16', { [TAG_ID]: cs.id, [TAG_KIND]: 'ControllerSlice' });
      expect((await observe('ControllerSlice', cs)).upToDate).toBe(false);
      await client('ControllerSlice').update(cs, model.ctx(controller));
      const left = await api.describeVpcs([{ name: `tag:${TAG_ID}`, values: [cs.id] }]);
      expect(left).toHaveLength(1);
      expect((await observe('ControllerSlice', cs)).upToDate).toBe(true);
      // The canonical VPC is the smallest id; the group moved with it when the duplicate sorted first.
      expect(left[0]?.id).toBe([String(kept?.id), dup.id].sort()[0]);
      const groups = await api.describeSecurityGroups([{ name: `tag:${TAG_ID}`, values: [cs.id] }]);
      expect(groups.map((g) => g.vpcId)).toEqual([left[0]?.id]);
    });

    test('ControllerImage -> AMI by name or id; an unknown image is a terminal error', async () => {
      image = model.add('Image', { name: KNOWN_AMI.name, image_kind: 'vm' });
      const ci = model.add('ControllerImage', { image_id: image.id, controller_id: controller.id });
      expect(await observe('ControllerImage', ci)).toMatchObject({
        exists: true,
        settled: true,
        feedback: { glance_image_id: KNOWN_AMI.id },
      });
      model.bump(ci, { glance_image_id: KNOWN_AMI.id });
      const byId = model.add('Image', { name: KNOWN_AMI.id, image_kind: 'vm' });
      const ciById = model.add('ControllerImage', { image_id: byId.id, controller_id: controller.id });
      expect((await observe('ControllerImage', ciById)).feedback).toEqual({ glance_image_id: KNOWN_AMI.id });
      for (const name of ['no-such-image-anywhere', 'ami-0123456789abcdef0']) {
        const unknown = model.add('Image', { name, image_kind: 'vm' });
        const ciUnknown = model.add('ControllerImage', { image_id: unknown.id, controller_id: controller.id });
        expect((await observe('ControllerImage', ciUnknown)).exists).toBe(false);
        await expect(create('ControllerImage', ciUnknown)).rejects.toBeInstanceOf(TerminalBackendError);
      }
    });

    test('ControllerNetwork -> subnets in the slice VPC: first free /24, or the network subnet; bad CIDRs are terminal', async () => {
      for (const subnet of [null, '10.0.7.0/24']) {
        const net = model.add('Network', { name: `n${newId().toLowerCase()}`, owner_id: slice.id, subnet });
        const cn = model.add('ControllerNetwork', { network_id: net.id, controller_id: controller.id });
        nets.push(net);
        cns.push(cn);
        await create('ControllerNetwork', cn);
        await create('ControllerNetwork', cn);
      }
      const [auto, fixed] = await Promise.all(cns.map((cn) => observe('ControllerNetwork', cn)));
      expect(auto?.feedback).toMatchObject({
        subnet: '10.0.0.0/24',
        gateway: '10.0.0.1',
        start_ip: '10.0.0.4',
        stop_ip: '10.0.0.254',
      });
      expect(fixed?.feedback).toMatchObject({ subnet: '10.0.7.0/24' });
      expect(auto?.feedback?.net_id).toBe((await observe('ControllerSlice', cs)).feedback?.tenant_id);
      const subnets = await api.describeSubnets([{ name: 'vpc-id', values: [String(auto?.feedback?.net_id)] }]);
      expect(subnets).toHaveLength(2);
      const outside = model.add('Network', { name: 'outside', owner_id: slice.id, subnet: '192.168.0.0/24' });
      const cnOutside = model.add('ControllerNetwork', { network_id: outside.id, controller_id: controller.id });
      await expect(create('ControllerNetwork', cnOutside)).rejects.toBeInstanceOf(TerminalBackendError);
      const raw = await api
        .createSubnet({ vpcId: String(auto?.feedback?.net_id), cidr: '10.0.7.0/24', tags: {} })
        .catch((e: unknown) => e);
      expect((raw as Ec2Error).code).toBe('InvalidSubnet.Conflict');
    });

    test('a network of a slice with no VPC yet is a retryable wait, not a failure', async () => {
      const other = model.add('Slice', { name: `s${newId().toLowerCase()}` });
      const net = model.add('Network', { name: 'early', owner_id: other.id });
      const cn = model.add('ControllerNetwork', { network_id: net.id, controller_id: controller.id });
      await expect(create('ControllerNetwork', cn)).rejects.toBeInstanceOf(RetryableBackendError);
    });

    test('Instance -> RunInstances tagged with the XOS id, pending -> running, never duplicated', async () => {
      flavor = model.add('Flavor', { name: 'm1.small' });
      instance = model.add('Instance', {
        name: 'vm1',
        slice_id: slice.id,
        image_id: image.id,
        flavor_id: flavor.id,
        isolation: 'vm',
        userData: '#cloud-config\n',
      });
      // The Instance policy made one port per network of the slice.
      for (const net of nets) ports.push(model.add('Port', { network_id: net.id, instance_id: instance.id }));
      // The driver launches into the subnet of the first port by id: that port's network is the primary one.
      ports.sort((a, b) => a.id.localeCompare(b.id));
      const primaryCidr = nets[0]?.id === ports[0]?.network_id ? /^10\.0\.0\.\d+$/ : /^10\.0\.7\.\d+$/;
      const first = await create('Instance', instance);
      const second = await create('Instance', instance);
      expect(second).toEqual(first);
      const running = await eventually(async () => {
        const seen = await observe('Instance', instance);
        if (!seen.settled) throw new Error('still pending');
        return seen;
      });
      expect(running.feedback?.instance_id).toBe(first.instance_id);
      expect(String(running.feedback?.ip)).toMatch(primaryCidr);
      const tagged = await api.describeInstances([{ name: `tag:${TAG_ID}`, values: [instance.id] }]);
      expect(tagged).toHaveLength(1);
      expect(tagged[0]).toMatchObject({ type: 't3.small', imageId: KNOWN_AMI.id, state: 'running' });
      expect(tagged[0]?.tags[TAG_KIND]).toBe('Instance');
    });

    test('Port -> the primary interface adopted for the first network, a new attached interface for the second', async () => {
      for (const port of ports) {
        await eventually(() => create('Port', port));
        await create('Port', port);
      }
      const seen = await Promise.all(ports.map((p) => observe('Port', p)));
      for (const s of seen) expect(s).toMatchObject({ exists: true, upToDate: true, settled: true });
      const [ec2] = await api.describeInstances([{ name: `tag:${TAG_ID}`, values: [instance.id] }]);
      const byId = new Map((ec2?.interfaces ?? []).map((n) => [n.id, n]));
      expect(byId.get(String(seen[0]?.feedback?.port_id))?.attachment?.deviceIndex).toBe(0);
      expect(byId.get(String(seen[1]?.feedback?.port_id))?.attachment?.deviceIndex).toBe(1);
      for (const p of ports) {
        const enis = await api.describeNetworkInterfaces([{ name: `tag:${TAG_ID}`, values: [p.id] }]);
        expect(enis).toHaveLength(1);
      }
    });

    test('deleting a VPC that still has subnets is a retryable DependencyViolation carrying EC2 words', async () => {
      const err = await client('ControllerSlice')
        .delete(cs, model.ctx(controller))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetryableBackendError);
      expect(String((err as Error).message)).toMatch(/^ec2: .*DependencyViolation: /);
    });

    test('delete in reverse order removes everything; a second delete is a no-op', async () => {
      const ctx = model.ctx(controller);
      for (const p of [...ports].reverse()) {
        await eventually(() => client('Port').delete(p, ctx));
        expect((await observe('Port', p)).exists).toBe(false);
      }
      await client('Instance').delete(instance, ctx);
      await client('Instance').delete(instance, ctx);
      expect((await observe('Instance', instance)).exists).toBe(false);
      for (const cn of cns) {
        await eventually(() => client('ControllerNetwork').delete(cn, ctx));
        await client('ControllerNetwork').delete(cn, ctx);
        expect((await observe('ControllerNetwork', cn)).exists).toBe(false);
      }
      await eventually(() => client('ControllerSlice').delete(cs, ctx));
      await client('ControllerSlice').delete(cs, ctx);
      expect((await observe('ControllerSlice', cs)).exists).toBe(false);
      expect(await api.describeVpcs([{ name: `tag:${TAG_ID}`, values: [cs.id] }])).toEqual([]);
      const left = await api.describeInstances([{ name: `tag:${TAG_ID}`, values: [instance.id] }]);
      expect(left.every((i) => i.state === 'shutting-down' || i.state === 'terminated')).toBe(true);
    });
  });
}
