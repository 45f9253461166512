// biome-ignore-all lint/suspicious/noExplicitAny: CloudFormation templates are inspected dynamically
/**
 * A production stage with private back-ends and an alarm e-mail: data survives stack deletion,
 * only the back-end-facing functions join the VPC, the secret prefix is the stage's. Plus the
 * context parsing itself (no synthesis).
 */
import { lambdaSpecs } from '../../infra/cdk/lambdas';
import { OFFLINE_ACCOUNT, stageConfig } from '../../infra/cdk/stage';
import { resourcesOf, type Synthesized, synthesize } from './synth';

const PROD = {
  stage: 'prod',
  backendVpcId: 'vpc-0abc',
  backendSubnetIds: 'subnet-a,subnet-b',
  backendAvailabilityZones: 'eu-west-1a,eu-west-1b',
  alarmEmail: 'ops@example.com',
};

describe('prod stage', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize(PROD);
  }, 180_000);

  test('the table, user pool and console bucket are retained; the table has deletion protection', () => {
    const [table] = Object.values(resourcesOf(s.json, 'AWS::DynamoDB::Table'));
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    expect(table.Properties.TableName).toBe('xos-prod');
    const [pool] = Object.values(resourcesOf(s.json, 'AWS::Cognito::UserPool'));
    expect(pool.DeletionPolicy).toBe('Retain');
    expect(pool.Properties.DeletionProtection).toBe('ACTIVE');
    const [bucket] = Object.values(resourcesOf(s.json, 'AWS::S3::Bucket'));
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  test('logs are kept 90 days by default', () => {
    for (const group of Object.values(resourcesOf(s.json, 'AWS::Logs::LogGroup')))
      expect(group.Properties.RetentionInDays).toBe(90);
  });

  test('only back-end-facing functions join the back-end VPC', () => {
    const functions = Object.values(resourcesOf(s.json, 'AWS::Lambda::Function'));
    for (const spec of lambdaSpecs()) {
      const fn = functions.find((f) => f.Properties.FunctionName === `xos-prod-${spec.name}`);
      if (spec.backendFacing) expect(fn.Properties.VpcConfig.SubnetIds).toEqual(['subnet-a', 'subnet-b']);
      else expect(fn.Properties.VpcConfig).toBeUndefined();
    }
  });

  test('alarm e-mail subscription and the stage secret prefix', () => {
    s.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(JSON.stringify(s.json)).toContain('secret:xos/prod/controllers/*');
    expect(JSON.stringify(s.json)).not.toContain('xos/dev/');
  });
});

describe('stage context', () => {
  const config = (ctx: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => stageConfig((k) => ctx[k], env);

  test('defaults: a cheap dev stage that synthesizes offline', () => {
    expect(config({})).toMatchObject({
      stage: 'dev',
      account: OFFLINE_ACCOUNT,
      region: 'us-east-1',
      retainData: false,
      retentionDays: 14,
      secretPrefix: 'xos/dev/controllers/',
      sweepMinutes: 5,
    });
  });

  test('the CLI environment supplies the account; context wins over it', () => {
    const env = { CDK_DEFAULT_ACCOUNT: '111111111111', CDK_DEFAULT_REGION: 'eu-central-1' };
    expect(config({}, env)).toMatchObject({ account: '111111111111', region: 'eu-central-1' });
    expect(config({ account: '222222222222', region: 'us-west-2' }, env)).toMatchObject({
      account: '222222222222',
      region: 'us-west-2',
    });
  });

  test('prod stages retain data; retainData overrides either way', () => {
    expect(config({ stage: 'prod' })).toMatchObject({ retainData: true, retentionDays: 90 });
    expect(config({ stage: 'staging', retainData: 'true' }).retainData).toBe(true);
    expect(config({ stage: 'prod', retainData: 'false' }).retainData).toBe(false);
  });

  test('bad context is refused with the key named', () => {
    expect(() => config({ stage: 'Prod!' })).toThrow(/stage/);
    expect(() => config({ retentionDays: 'soon' })).toThrow(/retentionDays/);
    expect(() => config({ backendVpcId: 'vpc-1' })).toThrow(/backendSubnetIds/);
    expect(() => config({ backendVpcId: 'vpc-1', backendSubnetIds: 'a,b', backendAvailabilityZones: 'x' })).toThrow(
      /equal length/,
    );
  });
});
