/**
 * The OpenStack driver contract against a REAL OpenStack (Keystone, Nova with the fake virt driver,
 * Neutron, Glance from Debian): the same suite the stand-in passes. Skipped loudly where OpenStack
 * cannot run (see real-openstack.ts).
 */
import { openStackContract } from './contract';
import { acquireRealOpenStack, type RealOpenStack, realOpenStackUnavailable } from './real-openstack';

const unavailable = realOpenStackUnavailable('the OpenStack driver contract');
// A real boot takes seconds (tens of seconds on a busy machine); deletes wait for Nova.
jest.setTimeout(5 * 60_000);

(unavailable ? describe.skip : describe)('OpenStack contract: real OpenStack', () => {
  let real: RealOpenStack;
  beforeAll(async () => {
    real = await acquireRealOpenStack();
  }, 12 * 60_000);
  afterAll(async () => real?.release(), 180_000);

  openStackContract(() => ({ label: 'real', ...real.target, buildTimeoutMs: 90_000 }));
});
