/** The EC2 driver's pure parts: exposed ports -> ingress, subnet addressing, flavor -> instance type. */
import { cidrWithin, freeSubnets, requestedSubnet, subnetAddresses } from '../../../shared/backends/ec2/addressing';
import { desiredIngress, ingressDiff, parseExposedPorts } from '../../../shared/backends/ec2/ingress';
import { instanceTypeOf } from '../../../shared/backends/ec2/instance-types';
import { TerminalBackendError } from '../../../shared/errors';

describe('exposed ports', () => {
  test('tcp/udp ports and ranges, icmp, any spacing and case', () => {
    expect(parseExposedPorts('tcp 22, UDP 53,tcp 8000 - 8010 , icmp')).toEqual([
      { protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['0.0.0.0/0'], groups: [] },
      { protocol: 'udp', fromPort: 53, toPort: 53, cidrs: ['0.0.0.0/0'], groups: [] },
      { protocol: 'tcp', fromPort: 8000, toPort: 8010, cidrs: ['0.0.0.0/0'], groups: [] },
      { protocol: 'icmp', fromPort: -1, toPort: -1, cidrs: ['0.0.0.0/0'], groups: [] },
    ]);
    expect(parseExposedPorts(null)).toEqual([]);
    expect(parseExposedPorts(' , ')).toEqual([]);
  });

  test.each(['ssh', 'tcp', 'tcp 70000', 'tcp 90-80', 'sctp 9'])('"%s" is a terminal error', (spec) => {
    expect(() => parseExposedPorts(spec)).toThrow(TerminalBackendError);
  });

  test('diff authorizes what is missing and revokes what is extra, regardless of grouping', () => {
    const desired = desiredIngress('tcp 22, tcp 80', 'sg-1');
    const actual = [
      { protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['0.0.0.0/0', '10.0.0.0/8'], groups: [] },
      { protocol: '-1', cidrs: [], groups: ['sg-1'] },
    ];
    expect(ingressDiff(actual, desired)).toEqual({
      authorize: [{ protocol: 'tcp', fromPort: 80, toPort: 80, cidrs: ['0.0.0.0/0'], groups: [] }],
      revoke: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrs: ['10.0.0.0/8'], groups: [] }],
    });
    expect(ingressDiff(desired, desired)).toEqual({ authorize: [], revoke: [] });
  });
});

describe('addressing', () => {
  test('the first free /24 skips every overlapping subnet', () => {
    expect(freeSubnets([]).slice(0, 2)).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    expect(freeSubnets(['10.0.0.0/23', '10.0.3.0/28'])[0]).toBe('10.0.2.0/24');
    expect(freeSubnets(['10.0.0.0/16'])).toEqual([]);
  });

  test('a requested subnet must fit the VPC', () => {
    expect(requestedSubnet('10.0.5.9/24')).toBe('10.0.5.0/24');
    expect(requestedSubnet(null)).toBeUndefined();
    expect(() => requestedSubnet('192.168.1.0/24')).toThrow(TerminalBackendError);
    expect(() => requestedSubnet('10.0.0.0/30')).toThrow(TerminalBackendError);
    expect(cidrWithin('10.0.1.0/24', '10.0.0.0/16')).toBe(true);
  });

  test('EC2 reserves .0-.3 and the last address', () => {
    expect(subnetAddresses('10.0.4.0/24')).toEqual({
      gateway: '10.0.4.1',
      start_ip: '10.0.4.4',
      stop_ip: '10.0.4.254',
    });
  });
});

describe('flavor -> instance type', () => {
  test('OpenStack default names map to a current type; anything else is used as is', () => {
    expect(instanceTypeOf({ name: 'm1.small' })).toBe('t3.small');
    expect(instanceTypeOf({ name: 'big', flavor: 'c6i.large' })).toBe('c6i.large');
    expect(instanceTypeOf({ name: 'm5.large' })).toBe('m5.large');
    expect(instanceTypeOf(undefined)).toBe('t3.micro');
  });
});
