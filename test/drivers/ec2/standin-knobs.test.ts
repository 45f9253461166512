/**
 * What only the stand-in can do on demand (moto cannot): injected 503s, answers that never come,
 * wrong credentials, and EC2's ClientToken idempotency, seen through the SDK adapter and the
 * driver's error classification.
 */
import { type Ec2StandIn, startEc2StandIn } from '../../../infra/local/standins/ec2';
import { sdkEc2Api } from '../../../shared/adapters/ec2/sdk-api';
import { Ec2Error } from '../../../shared/backends/ec2/api';
import { ec2Call } from '../../../shared/backends/ec2/driver';
import { RetryableBackendError, TerminalBackendError } from '../../../shared/errors';
import { KNOWN_AMI } from './contract';

describe('EC2 stand-in knobs', () => {
  let standIn: Ec2StandIn;
  beforeAll(async () => {
    standIn = await startEc2StandIn({ settleMs: 50 });
  });
  afterAll(() => standIn.stop());
  afterEach(() => standIn.configure({ errorRate: 0, timeoutRate: 0, latencyMs: 0 }));

  const api = (timeoutMs = 5_000) => sdkEc2Api({ ...standIn, timeoutMs });

  test('errorRate 1: every call is a 503 Unavailable, classified retryable with EC2 words', async () => {
    standIn.configure({ errorRate: 1 });
    const err = await ec2Call('describe VPCs', () => api().describeVpcs([])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableBackendError);
    expect((err as Error).message).toBe(
      'ec2: describe VPCs failed (HTTP 503): Unavailable: The service is unavailable. Please try again shortly.',
    );
    expect(standIn.stats.errors).toBeGreaterThanOrEqual(2); // the SDK retried once
  });

  test('wrong credentials: AuthFailure, terminal', async () => {
    const wrong = sdkEc2Api({ ...standIn, accessKeyId: 'AKIAWRONG' });
    const err = await ec2Call('describe VPCs', () => wrong.describeVpcs([])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TerminalBackendError);
    expect((err as Error).message).toContain('AuthFailure');
  });

  test('an answer that never comes is a retryable transport failure; the launch behind it is not repeated', async () => {
    const client = api(300);
    const vpc = await client.createVpc('10.0.0.0/16', { 'xos:id': 'knobs' });
    const subnet = await client.createSubnet({ vpcId: vpc.id, cidr: '10.0.0.0/24', tags: {} });
    const req = {
      imageId: KNOWN_AMI.id,
      instanceType: 't3.micro',
      subnetId: subnet.id,
      securityGroupIds: [],
      clientToken: 'knobs-token-1',
      tags: { 'xos:id': 'knobs-instance' },
    };
    standIn.configure({ timeoutRate: 1, hangMs: 5_000 });
    const err = await ec2Call('run instance', () => client.runInstance(req)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableBackendError);
    standIn.configure({ timeoutRate: 0 });
    // The SDK's own retry and this one reuse the token: one launch in total.
    const again = await client.runInstance(req);
    expect(standIn.world.launches).toBe(1);
    const tagged = await client.describeInstances([{ name: 'tag:xos:id', values: ['knobs-instance'] }]);
    expect(tagged.map((i) => i.id)).toEqual([again.id]);
  });

  test('latency is added to every answer', async () => {
    standIn.configure({ latencyMs: 150 });
    const t0 = Date.now();
    await api().describeVpcs([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });

  test('unknown actions get EC2 InvalidAction', async () => {
    const res = await fetch(standIn.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `AWS4-HMAC-SHA256 Credential=${standIn.accessKeyId}/20240101/us-east-1/ec2/aws4_request`,
      },
      body: 'Action=LaunchRockets&Version=2016-11-15',
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('<Code>InvalidAction</Code>');
    expect(new Ec2Error('x', 'y').network).toBe(false);
  });
});
