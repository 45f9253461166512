/**
 * Stage configuration from CDK context (`-c stage=prod -c alarmEmail=ops@example.com`, or cdk.json).
 * A dev stage is cheap to leave running and deletes its data with the stack; a production stage
 * (`prod`, or any stage with `retainData=true`) keeps the table, its backups and the console bucket.
 */

/** Everything the stack varies by stage. */
export interface StageConfig {
  /** Stage name: part of every resource name and of the secret prefix. */
  readonly stage: string;
  readonly account: string;
  readonly region: string;
  /** Keep data on stack deletion (RETAIN, deletion protection). */
  readonly retainData: boolean;
  /** Log retention in days (CloudWatch Logs, API access logs, state machine logs). */
  readonly retentionDays: number;
  /** Alarm notifications go here (an SNS e-mail subscription); none when absent. */
  readonly alarmEmail?: string;
  /** Private back-ends: the VPC (and its private subnets) the back-end-facing Lambdas join. */
  readonly backendVpc?: { readonly vpcId: string; readonly subnetIds: string[]; readonly availabilityZones: string[] };
  /** Secrets Manager names of controller credentials start with this (`credentials_ref` is appended). */
  readonly secretPrefix: string;
  /** Sweeper period in minutes. */
  readonly sweepMinutes: number;
  /** Reserved concurrency cap of the step Lambdas (back-pressure on the back-ends); 0: none. */
  readonly stepConcurrency: number;
}

/** Reads a context value (an App or a Node's `tryGetContext`). */
export type ContextReader = (key: string) => unknown;

/** Placeholder account used for offline synthesis (no credentials); `cdk deploy` supplies the real one. */
export const OFFLINE_ACCOUNT = '000000000000';

const STAGE_NAME = /^[a-z][a-z0-9-]{1,15}$/;

/** Build the stage configuration from context and the CLI's default environment. */
export function stageConfig(context: ContextReader, env: NodeJS.ProcessEnv = process.env): StageConfig {
  const text = (key: string): string | undefined => {
    const v = context(key);
    return v === undefined || v === null || v === '' ? undefined : String(v);
  };
  const list = (key: string): string[] =>
    (text(key) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const int = (key: string, fallback: number): number => {
    const raw = text(key);
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isInteger(n) || n < 0) throw new Error(`context ${key} must be a non-negative integer, got ${raw}`);
    return n;
  };

  const stage = text('stage') ?? 'dev';
  if (!STAGE_NAME.test(stage)) throw new Error(`context stage must match ${STAGE_NAME}, got ${stage}`);
  const retainData = text('retainData') === undefined ? stage.startsWith('prod') : text('retainData') === 'true';

  const vpcId = text('backendVpcId');
  const subnetIds = list('backendSubnetIds');
  const availabilityZones = list('backendAvailabilityZones');
  if (vpcId && (subnetIds.length === 0 || subnetIds.length !== availabilityZones.length))
    throw new Error('backendVpcId needs backendSubnetIds and backendAvailabilityZones (comma lists of equal length)');

  return {
    stage,
    account: text('account') ?? env.CDK_DEFAULT_ACCOUNT ?? OFFLINE_ACCOUNT,
    region: text('region') ?? env.CDK_DEFAULT_REGION ?? 'us-east-1',
    retainData,
    retentionDays: int('retentionDays', retainData ? 90 : 14),
    alarmEmail: text('alarmEmail'),
    backendVpc: vpcId ? { vpcId, subnetIds, availabilityZones } : undefined,
    secretPrefix: `xos/${stage}/controllers/`,
    sweepMinutes: Math.max(1, int('sweepMinutes', 5)),
    stepConcurrency: int('stepConcurrency', 0),
  };
}
