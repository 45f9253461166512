/** The OpenStack driver's pure mapping rules: names, roles, default subnets, user data, API roots. */
import {
  addressPlan,
  cloudConfig,
  defaultSubnet,
  resourceName,
  roleOf,
} from '../../../shared/backends/openstack/names';
import { apiBase } from '../../../shared/backends/openstack/session';

test('resource names are derived from the XOS id, lower-cased', () => {
  expect(resourceName('slice', '01HXABC')).toBe('xos-slice-01hxabc');
  expect(resourceName('instance', '01HXABC')).toBe('xos-instance-01hxabc');
});

test.each([
  ['role:admin', 'admin'],
  ['role:pi', 'admin'],
  ['role:tech', 'admin'],
  ['role:user', 'member'],
  ['role:access', 'member'],
  ['all', 'member'],
  ['readonly', 'reader'],
  [undefined, 'member'],
])('privilege %s -> Keystone role %s', (permission, role) => {
  expect(roleOf(permission)).toBe(role);
});

test('a default subnet is a stable 10.x.y.0/24 per network id', () => {
  const a = defaultSubnet('01HXNETWORKAAAA');
  expect(a).toMatch(/^10\.\d{1,3}\.\d{1,3}\.0\/24$/);
  expect(defaultSubnet('01HXNETWORKAAAA')).toBe(a);
  expect(defaultSubnet('01HXNETWORKBBBB')).not.toBe(a);
});

test('address plan: gateway .1, pool .2 - .254 unless the network bounds it', () => {
  expect(addressPlan('10.77.3.0/24')).toEqual({ gateway: '10.77.3.1', start: '10.77.3.2', end: '10.77.3.254' });
  expect(addressPlan('10.77.0.0/16', '10.77.1.10', '10.77.1.20')).toEqual({
    gateway: '10.77.0.1',
    start: '10.77.1.10',
    end: '10.77.1.20',
  });
});

test('cloud-config: hostname, each key once, then the instance user data without its header', () => {
  const text = cloudConfig(
    'vm1',
    ['ssh-ed25519 AAA a', ' ssh-ed25519 AAA a ', 'ssh-rsa BBB b'],
    '#cloud-config\nruncmd:\n  - echo hi\n',
  );
  expect(text).toBe(
    '#cloud-config\nhostname: "vm1"\nssh_authorized_keys:\n  - "ssh-ed25519 AAA a"\n  - "ssh-rsa BBB b"\nruncmd:\n  - echo hi\n',
  );
  expect(cloudConfig('vm2', [])).toBe('#cloud-config\nhostname: "vm2"\n');
});

/** "<service> <catalog URL>" -> the API base the driver calls. */
const API_ROOTS: Record<string, string> = {
  'compute http://h:8774/v2.1': 'http://h:8774/v2.1',
  'compute http://h:8774/': 'http://h:8774/v2.1',
  'network http://h:9696': 'http://h:9696/v2.0',
  'network http://h:9696/v2.0/': 'http://h:9696/v2.0',
  'image http://h:9292': 'http://h:9292/v2',
  'identity http://h:5000/v3/': 'http://h:5000/v3',
  'identity http://h:5000': 'http://h:5000/v3',
};

test.each(Object.entries(API_ROOTS))('catalog %s -> API base %s', (given, base) => {
  const [type, url] = given.split(' ') as ['compute' | 'network' | 'image' | 'identity', string];
  expect(apiBase(type, url)).toBe(base);
});
