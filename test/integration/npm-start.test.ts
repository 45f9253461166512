/**
 * The README's promise, as a newcomer runs it: `npm start` (here `tsx infra/local/start.ts
 * --in-memory`, what the script runs) brings up DynamoDB Local, the API, the synchronizer and the
 * three stand-ins with the demo deployments; the tour's steps (login, slice, network, instance on
 * demo-openstack, then one on demo-ec2) become enacted, and the history shows the reconcile steps.
 * The process is stopped with SIGTERM, as Ctrl-C would, and must exit cleanly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePort } from '../../infra/local/dynamodb-local';
import { eventually } from '../helpers/sync-stack';

const ROOT = join(__dirname, '..', '..');
const PASSWORD = 'secret-pass';

let child: ChildProcess;
let base: string;
let output = '';
let token = '';

// biome-ignore lint/suspicious/noExplicitAny: API bodies are inspected dynamically in tests
async function call(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}/xosapi/v1${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
const first = async (path: string) => (await call('GET', `/core/${path}`)).items[0].id as string;
const enacted = async (plural: string, id: string) => {
  const obj = await call('GET', `/core/${plural}/${id}`);
  if (obj.backend_code !== 1) throw new Error(`${plural}/${id}: ${obj.backend_code} ${obj.backend_status}`);
  return obj;
};

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), ['infra/local/start.ts', '--in-memory'], {
    cwd: ROOT,
    env: { ...process.env, XOS_PORT: String(port), XOS_ADMIN_PASSWORD: PASSWORD, XOS_IN_MEMORY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}: ${output}`);
      const res = await fetch(`${base}/healthz`);
      if (res.status !== 200) throw new Error(`healthz ${res.status}`);
    },
    120_000,
    500,
  );
  token = (await call('POST', '/utility/login', { username: 'admin@xos.local', password: PASSWORD })).token;
}, 150_000);

afterAll(async () => {
  if (!child || child.exitCode !== null) return;
  const exited = once(child, 'exit');
  process.kill(-(child.pid as number), 'SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (child.exitCode === null) process.kill(-(child.pid as number), 'SIGKILL');
});

test('the README tour: a slice, a network and instances on the OpenStack and EC2 stand-ins become enacted', async () => {
  const slice = await call('POST', '/core/slices', { name: 'demo', site_id: await first('sites') });
  const template = await call('POST', '/core/networktemplates', { name: 'private' });
  await call('POST', '/core/networks', { name: 'demo-net', owner_id: slice.id, template_id: template.id });
  const body = async (deployment: string, name: string) => ({
    name,
    slice_id: slice.id,
    image_id: await first('images'),
    flavor_id: await first('flavors'),
    deployment_id: await first(`deployments?name=${deployment}`),
  });
  const vm = await call('POST', '/core/instances', await body('demo-openstack', 'demo-os-1'));
  const onOpenStack = await eventually(() => enacted('instances', vm.id), 90_000, 500);
  expect(onOpenStack.instance_id).toEqual(expect.any(String));
  const history = (await call('GET', `/core/instances/${vm.id}/history`)).items;
  expect(history.some((h: { step: string; outcome: string }) => h.step === 'Record' && h.outcome === 'ok')).toBe(true);

  const ec2 = await call('POST', '/core/instances', await body('demo-ec2', 'demo-ec2-1'));
  const onEc2 = await eventually(() => enacted('instances', ec2.id), 90_000, 500);
  expect(onEc2.instance_id).toMatch(/^i-/);
}, 200_000);

test('SIGTERM stops everything and the process exits 0', async () => {
  const exited = once(child, 'exit');
  process.kill(-(child.pid as number), 'SIGTERM');
  const [code] = await exited;
  expect(code).toBe(0);
  expect(output).toContain('xos: stopped.');
}, 30_000);
