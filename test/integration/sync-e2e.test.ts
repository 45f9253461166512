/**
 * The synchronizer end to end, locally: API writes -> DynamoDB Local stream -> dispatch ->
 * reconcile state machine (aws-local-stepfunctions, the real ASL file) -> step handlers ->
 * stand-in back-end -> feedback on the objects.
 */

import { type SyncRuntime, startSyncRuntime } from '../../infra/local/sync-runtime';
import { StandInCloud } from '../../shared/backends/standin';
import { startTestStack, type TestStack, testEndpoint } from '../helpers/stack';

let stack: TestStack;
let sync: SyncRuntime;
let cloud: StandInCloud;

beforeAll(async () => {
  stack = await startTestStack();
  cloud = new StandInCloud();
  sync = await startSyncRuntime({
    endpoint: testEndpoint(),
    tableName: stack.tableName,
    drivers: cloud,
    timeScale: 0.01,
    sweepIntervalMs: 0,
    options: { retryBaseMs: 50, retryCapMs: 200, leaseMs: 2_000, waitRecheckMs: 2_000 },
    log: { error: () => undefined, info: () => undefined },
  });
});
afterAll(async () => {
  await sync.stop();
  await stack.close();
});

const core = (plural: string) => `/xosapi/v1/core/${plural}`;
async function create(plural: string, body: Record<string, unknown>) {
  const res = await stack.request('POST', core(plural), { body });
  expect(res.status).toBe(201);
  return res.body as { id: string; version: number };
}
async function get(plural: string, id: string) {
  return (await stack.request('GET', `${core(plural)}/${id}`)).body;
}

test('a slice on a site bound to a controller: placement records are created and everything is enacted', async () => {
  const deployment = await create('deployments', { name: 'd1' });
  const controller = await create('controllers', {
    name: 'c1',
    backend_type: 'openstack',
    deployment_id: deployment.id,
  });
  const site = await create('sites', { name: 's1', login_base: 's1', abbreviated_name: 's1' });
  await create('sitedeployments', { site_id: site.id, deployment_id: deployment.id, controller_id: controller.id });
  const slice = await create('slices', { name: 'slice1', site_id: site.id });
  await sync.settle();

  const cs = (await stack.request('GET', `${core('controllerslices')}?slice_id=${slice.id}`)).body.items;
  if (cs.length !== 1) {
    console.log(
      JSON.stringify(
        sync.workflows.list().map((e) => [e.name, e.status, e.error, e.cause, e.output]),
        null,
        1,
      ).slice(0, 4000),
    );
    console.log(JSON.stringify(await get('slices', slice.id)));
  }
  expect(cs).toHaveLength(1);
  expect(cs[0]).toMatchObject({ backend_code: 1, backend_status: 'OK', enacted_version: 1 });
  expect(cs[0].tenant_id).toMatch(/^sb-/);
  const s = await get('slices', slice.id);
  expect(s).toMatchObject({ enacted_version: 1, policed_version: 1, backend_code: 1, policy_code: 1 });
  const sites = (await stack.request('GET', `${core('controllersites')}?site_id=${site.id}`)).body.items;
  expect(sites).toHaveLength(1);
  expect(sites[0].backend_code).toBe(1);
  for (const count of cloud.creates.values()) expect(count).toBe(1);

  const hist = (await stack.request('GET', `${core('controllerslices')}/${cs[0].id}/history`)).body.items;
  expect(hist[0]).toMatchObject({ outcome: 'ok', version: 1, step: 'Record' });
  expect(hist[0].execution).toMatch(new RegExp(`^ControllerSlice-${cs[0].id}-v1`));
});
