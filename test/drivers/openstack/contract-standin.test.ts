/**
 * The OpenStack driver contract against the in-process stand-in (infra/local/standins/openstack),
 * plus what only a stand-in can show on demand: injected 503s, stalls past the client's timeout.
 */

import { type OpenStackStandIn, startOpenStackStandIn } from '../../../infra/local/standins/openstack';
import { adminSession } from '../../../shared/backends/openstack/session';
import { RetryableBackendError } from '../../../shared/errors';
import { openStackContract } from './contract';

let standIn: OpenStackStandIn;
beforeAll(async () => {
  standIn = await startOpenStackStandIn({ buildMs: 400, deleteMs: 150 });
});
afterAll(async () => standIn.stop());

describe('OpenStack contract: stand-in', () => {
  openStackContract(() => ({ label: 'stand-in', ...standIn, buildTimeoutMs: 10_000 }));
});

describe('stand-in knobs', () => {
  const session = () => adminSession(standIn, 300);
  afterEach(() => standIn.configure({ errorRate: 0, stallRate: 0, latencyMs: 0 }));

  test("errorRate answers 503 in the service's own shape, classified retryable", async () => {
    const s = session();
    await s.token();
    standIn.configure({ errorRate: 1 });
    const err = await s.call('compute', 'GET', '/flavors/detail', { action: 'list flavors' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableBackendError);
    expect(String((err as Error).message)).toMatch(/\(HTTP 503\): The server is currently unavailable/);
  });

  test('a stall past the client timeout is a retryable transport failure', async () => {
    const s = session();
    await s.token();
    standIn.configure({ stallRate: 1, stallMs: 1_000 });
    const err = await s.call('network', 'GET', '/networks', { action: 'list networks' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableBackendError);
    // http.ts reports the abort of its timeout as a transport failure
    expect(String((err as Error).message)).toMatch(/list networks \((timed out|could not connect)\) failed/);
  });

  test('latency is added to every call', async () => {
    const s = session();
    await s.token();
    standIn.configure({ latencyMs: 120 });
    const started = Date.now();
    await s.call('image', 'GET', '/images', { action: 'list images' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });
});
