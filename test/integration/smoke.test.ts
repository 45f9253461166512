import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

test('health, list sites, create a slice, filter by site', async () => {
  expect((await stack.request('GET', '/healthz', { token: null })).status).toBe(200);
  const sites = await stack.request('GET', '/xosapi/v1/core/sites');
  expect(sites.status).toBe(200);
  const site = sites.body.items[0];
  const slice = await stack.request('POST', '/xosapi/v1/core/slices', { body: { name: 'demo', site_id: site.id } });
  expect(slice.status).toBe(201);
  const bySite = await stack.request('GET', `/xosapi/v1/core/slices?site_id=${site.id}`);
  expect(bySite.body.items.map((s: { id: string }) => s.id)).toEqual([slice.body.id]);
});
