/**
 * End to end on EC2: through the XOS API (DynamoDB Local), the local sync runtime and the
 * production BackendRouter with the EC2 factory and in-memory secrets, against moto_server. A
 * deployment, an ec2 controller pointing at moto, a site, a slice with exposed ports, a network,
 * an image, a flavor and two instances are enacted; moto is then asked, by tag, for the VPC,
 * security group, subnet, instances and interfaces. Changing the slice's exposed ports changes the
 * group's ingress. Deleting the slice removes all of it.
 */

import { type SyncRuntime, startSyncRuntime } from '../../../infra/local/sync-runtime';
import { ec2Backend, sdkEc2Api } from '../../../shared/adapters/ec2/sdk-api';
import type { Ec2Api } from '../../../shared/backends/ec2/api';
import { TAG_ID } from '../../../shared/backends/ec2/driver';
import { BackendRouter } from '../../../shared/backends/router';
import { MemorySecrets } from '../../../shared/secrets/secrets';
import type { WorkflowStarter } from '../../../shared/sync/contract';
import { startTestStack, type TestStack, testEndpoint } from '../../helpers/stack';
import { eventually, FAST_SYNC } from '../../helpers/sync-stack';
import { KNOWN_AMI } from './contract';
import { type MotoServer, motoAvailable, startMoto, warnMotoMissing } from './moto';

const run = motoAvailable() ? describe : describe.skip;
if (!motoAvailable()) warnMotoMissing('the EC2 end-to-end test');

run('EC2 end to end: XOS API -> sync runtime -> EC2 driver -> moto_server', () => {
  let moto: MotoServer;
  let stack: TestStack;
  let sync: SyncRuntime;
  let ec2: Ec2Api;

  // biome-ignore lint/suspicious/noExplicitAny: API bodies are inspected dynamically in tests
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await stack.request(method, `/xosapi/v1/core/${path}`, { body });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  // biome-ignore lint/suspicious/noExplicitAny: API bodies are inspected dynamically in tests
  const list = async (plural: string, query: string): Promise<any[]> => (await api('GET', `${plural}?${query}`)).items;
  const enacted = async (plural: string, id: string) => {
    const obj = await api('GET', `${plural}/${id}`);
    if (obj.backend_code !== 1 || obj.enacted_version !== obj.version)
      throw new Error(`${plural}/${id} not enacted: ${obj.backend_code} ${obj.backend_status}`);
    return obj;
  };
  const gone = async (plural: string, id: string) => {
    const res = await stack.request('GET', `/xosapi/v1/core/${plural}/${id}`);
    if (res.status !== 404) throw new Error(`${plural}/${id} still there: ${res.body?.backend_status}`);
  };

  /** A deployment with an ec2 controller on moto, a site bound to it, a template, an image and a flavor. */
  const topology = async (tag: string) => {
    const deployment = await api('POST', 'deployments', { name: `dep-${tag}` });
    const controller = await api('POST', 'controllers', {
      name: `ctl-${tag}`,
      backend_type: 'ec2',
      deployment_id: deployment.id,
      auth_url: moto.endpoint,
      region: 'us-east-1',
      credentials_ref: 'ec2/moto',
    });
    const site = await api('POST', 'sites', { name: `site-${tag}`, login_base: tag, abbreviated_name: tag });
    await api('POST', 'sitedeployments', {
      site_id: site.id,
      deployment_id: deployment.id,
      controller_id: controller.id,
    });
    const template = await api('POST', 'networktemplates', { name: `private-${tag}` });
    const image = await api('POST', 'images', { name: KNOWN_AMI.name, tag });
    const flavor = await api('POST', 'flavors', { name: `small-${tag}`, flavor: 't3.small' });
    return { deployment, controller, site, template, image, flavor };
  };

  beforeAll(async () => {
    moto = await startMoto();
    const starter: WorkflowStarter = { start: (name, input) => sync.workflows.start(name, input) };
    stack = await startTestStack({ starter });
    const secrets = new MemorySecrets();
    secrets.set('ec2/moto', { access_key_id: 'testing', secret_access_key: 'testing' });
    sync = await startSyncRuntime({
      endpoint: testEndpoint(),
      tableName: stack.tableName,
      drivers: new BackendRouter({ factories: { ec2: ec2Backend }, secrets }),
      timeScale: 0.01,
      // Retryable waits (a VPC not made yet, a VPC still holding subnets) come back through the sweeper.
      sweepIntervalMs: 300,
      sweepGraceMs: 0,
      // moto's first EC2 call loads its AMI catalogue (seconds on a busy machine): a lease shorter
      // than that lets the sweeper start a second execution beside the first.
      options: { ...FAST_SYNC, leaseMs: 15_000 },
      log: { error: () => undefined, info: () => undefined },
    });
    ec2 = sdkEc2Api({
      endpoint: moto.endpoint,
      region: 'us-east-1',
      accessKeyId: 'testing',
      secretAccessKey: 'testing',
    });
    await ec2.describeImages({ ids: [KNOWN_AMI.id] }); // warm moto up before timing anything
  }, 60_000);

  afterAll(async () => {
    await sync?.stop();
    await stack?.close();
    await moto?.stop();
  });

  test('a slice with a network and two instances is enacted in EC2, then removed with the slice', async () => {
    const started = Date.now();
    const { deployment, site, template, image, flavor } = await topology('ec2');
    const slice = await api('POST', 'slices', { name: 'web-ec2', site_id: site.id, exposed_ports: 'tcp 22, tcp 443' });
    const network = await api('POST', 'networks', { name: 'web-net', owner_id: slice.id, template_id: template.id });
    const instances = [];
    for (const name of ['web-1', 'web-2']) {
      instances.push(
        await api('POST', 'instances', {
          name,
          slice_id: slice.id,
          image_id: image.id,
          flavor_id: flavor.id,
          deployment_id: deployment.id,
        }),
      );
    }

    // Everything placed on the controller becomes enacted.
    const [cs] = await eventually(async () => {
      const found = await list('controllerslices', `slice_id=${slice.id}`);
      if (found.length !== 1) throw new Error('no ControllerSlice yet');
      return found;
    });
    const ctlSlice = await eventually(() => enacted('controllerslices', cs.id), 60_000);
    const [cn] = await list('controllernetworks', `network_id=${network.id}`);
    const ctlNet = await eventually(() => enacted('controllernetworks', cn.id), 60_000);
    const [ci] = await list('controllerimages', `image_id=${image.id}`);
    const ctlImage = await eventually(() => enacted('controllerimages', ci.id), 60_000);
    const done = [];
    for (const i of instances) done.push(await eventually(() => enacted('instances', i.id), 60_000));
    const ports = await list('ports', `network_id=${network.id}`);
    expect(ports).toHaveLength(2);
    for (const p of ports) await eventually(() => enacted('ports', p.id), 60_000);
    const convergedMs = Date.now() - started;

    // Feedback recorded from EC2.
    expect(ctlImage.glance_image_id).toBe(KNOWN_AMI.id);
    expect(ctlSlice.tenant_id).toMatch(/^vpc-/);
    expect(ctlNet).toMatchObject({ net_id: ctlSlice.tenant_id, subnet: '10.0.0.0/24', gateway: '10.0.0.1' });
    for (const i of done) {
      expect(i.instance_id).toMatch(/^i-/);
      expect(i.ip).toMatch(/^10\.0\.0\./);
    }

    // EC2's own view, by tag.
    const vpcs = await ec2.describeVpcs([{ name: `tag:${TAG_ID}`, values: [cs.id] }]);
    expect(vpcs.map((v) => v.id)).toEqual([ctlSlice.tenant_id]);
    const [group] = await ec2.describeSecurityGroups([{ name: `tag:${TAG_ID}`, values: [cs.id] }]);
    expect(
      (group?.ingress ?? [])
        .filter((r) => r.cidrs.includes('0.0.0.0/0'))
        .map((r) => r.fromPort)
        .sort(),
    ).toEqual([22, 443]);
    const subnets = await ec2.describeSubnets([{ name: `tag:${TAG_ID}`, values: [cn.id] }]);
    expect(subnets.map((s) => s.id)).toEqual([ctlNet.subnet_id]);
    for (const i of done) {
      const found = await ec2.describeInstances([{ name: `tag:${TAG_ID}`, values: [i.id] }]);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        id: i.instance_id,
        state: 'running',
        type: 't3.small',
        subnetId: ctlNet.subnet_id,
      });
    }
    for (const p of ports) {
      const enis = await ec2.describeNetworkInterfaces([{ name: `tag:${TAG_ID}`, values: [p.id] }]);
      expect(enis).toHaveLength(1);
      expect((await api('GET', `ports/${p.id}`)).port_id).toBe(enis[0]?.id);
    }

    // Change the slice's exposed ports: its ControllerSlice gets a new version (the placement
    // follows what it places) and the security group follows.
    const current = await api('GET', `slices/${slice.id}`);
    await api('PATCH', `slices/${slice.id}`, { exposed_ports: 'tcp 22, tcp 8080', version: current.version });
    await eventually(async () => {
      const placed = await enacted('controllerslices', cs.id);
      if (placed.version <= ctlSlice.version) throw new Error('the ControllerSlice has no new version yet');
      const [g] = await ec2.describeSecurityGroups([{ name: `tag:${TAG_ID}`, values: [cs.id] }]);
      const open = (g?.ingress ?? []).filter((r) => r.cidrs.includes('0.0.0.0/0')).map((r) => r.fromPort);
      expect(open.sort()).toEqual([22, 8080]);
    }, 60_000);

    // Delete the slice: the cascade removes instances, ports, network and placements from EC2.
    const deleteStarted = Date.now();
    expect((await stack.request('DELETE', `/xosapi/v1/core/slices/${slice.id}`)).status).toBe(202);
    for (const [plural, id] of [
      ['ports', ports[0].id],
      ['ports', ports[1].id],
      ['instances', instances[0].id],
      ['instances', instances[1].id],
      ['controllernetworks', cn.id],
      ['networks', network.id],
      ['controllerslices', cs.id],
      ['slices', slice.id],
    ]) {
      await eventually(() => gone(plural, id), 60_000);
    }
    const deletedMs = Date.now() - deleteStarted;
    for (const i of done) {
      const left = await ec2.describeInstances([{ name: `tag:${TAG_ID}`, values: [i.id] }]);
      expect(left.every((x) => x.state === 'terminated' || x.state === 'shutting-down')).toBe(true);
    }
    expect(await ec2.describeSubnets([{ name: `tag:${TAG_ID}`, values: [cn.id] }])).toEqual([]);
    expect(await ec2.describeSecurityGroups([{ name: `tag:${TAG_ID}`, values: [cs.id] }])).toEqual([]);
    expect(await ec2.describeVpcs([{ name: `tag:${TAG_ID}`, values: [cs.id] }])).toEqual([]);
    console.info(`EC2 e2e on moto: converged in ${convergedMs} ms, removed in ${deletedMs} ms`);
  }, 180_000);

  test('an instance of a slice without a network fails terminally; a network joining the slice gives it a port and it starts', async () => {
    const { deployment, site, template, image, flavor } = await topology('late');
    const slice = await api('POST', 'slices', { name: 'late-ec2', site_id: site.id });
    const instance = await api('POST', 'instances', {
      name: 'late-1',
      slice_id: slice.id,
      image_id: image.id,
      flavor_id: flavor.id,
      deployment_id: deployment.id,
    });
    const failed = await eventually(async () => {
      const obj = await api('GET', `instances/${instance.id}`);
      if (obj.backend_code !== 2) throw new Error(`not failed yet: ${obj.backend_code} ${obj.backend_status}`);
      return obj;
    }, 60_000);
    expect(failed.backend_status).toMatch(/has no network on this controller/);

    const network = await api('POST', 'networks', { name: 'late-net', owner_id: slice.id, template_id: template.id });
    const [port] = await eventually(async () => {
      const found = await list('ports', `instance_id=${instance.id}`);
      if (found.length !== 1) throw new Error('no port yet');
      return found;
    }, 60_000);
    expect(port.network_id).toBe(network.id);
    const started = await eventually(() => enacted('instances', instance.id), 60_000);
    expect(started.version).toBeGreaterThan(failed.version);
    expect(started.instance_id).toMatch(/^i-/);
    await eventually(() => enacted('ports', port.id), 60_000);
    const found = await ec2.describeInstances([{ name: `tag:${TAG_ID}`, values: [instance.id] }]);
    expect(found).toHaveLength(1);

    expect((await stack.request('DELETE', `/xosapi/v1/core/slices/${slice.id}`)).status).toBe(202);
    await eventually(() => gone('slices', slice.id), 60_000);
  }, 180_000);
});
