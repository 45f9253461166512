/**
 * Feedback writes of the DynamoDB store against DynamoDB Local: the shapes of UpdateItem the
 * synchronizer produces, including the degenerate ones (an empty patch that only releases the lease
 * of an object that is no longer dirty: both the SET and the dirty-index clause are then empty).
 */
import { corePath } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack.close());

test('an empty patch releasing the lease of a clean object is one valid UpdateItem', async () => {
  const created = await stack.request('POST', corePath('Site'), {
    body: { name: 'feedback-site', login_base: 'fbs', abbreviated_name: 'fbs' },
  });
  expect(created.status).toBe(201);
  const store = stack.composed.store;
  const site = await store.get('Site', created.body.id);
  if (!site) throw new Error('site not stored');
  const now = new Date();
  const leased = await store.acquireLease(
    site,
    'exec-1',
    new Date(now.getTime() + 60_000).toISOString(),
    now.toISOString(),
  );
  if (!leased) throw new Error('lease not taken');
  const clean = await store.recordFeedback(leased, {
    enacted_version: leased.version,
    policed_version: leased.version,
    backend_code: 1,
    backend_status: 'OK',
  });
  const released = await store.recordFeedback(clean, {}, { releaseLease: true });
  expect(released).toMatchObject({ enacted_version: site.version, backend_code: 1 });
  expect(released.lease_owner).toBeUndefined();
  expect(await store.listDue('9999-12-31T23:59:59.999Z', 100)).not.toContainEqual({ kind: 'Site', id: site.id });
});
