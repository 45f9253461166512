/**
 * cdk-nag acknowledgements, each with the reason it is acceptable here. Anything not listed must
 * be fixed, not acknowledged: synthesis and the tests fail on any unacknowledged finding.
 */
import { type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The constructs that carry acknowledged findings. */
export interface NagScope {
  readonly stack: Stack;
  readonly functions: readonly IConstruct[];
  /** Functions whose role reads the table's indexes (`<table>/index/*`). */
  readonly indexReaders: readonly IConstruct[];
  /** Functions whose role reads controller secrets under the stage prefix. */
  readonly secretReaders: readonly IConstruct[];
  /** Functions whose role writes controller secrets under the stage prefix. */
  readonly secretWriters: readonly IConstruct[];
  /** The resolved `<table>/index/*` resource as cdk-nag prints it. */
  readonly indexResource: string;
  /** The secret ARN pattern as cdk-nag prints it. */
  readonly secretResource: string;
  readonly sweepRule: IConstruct;
  readonly stateMachine: IConstruct;
  readonly deadLetters: IConstruct;
  readonly publicRoutes: readonly IConstruct[];
  readonly userPool: IConstruct;
  readonly consoleBucket: IConstruct;
  /** The console bucket's objects (`<bucket>/*`) as cdk-nag prints them. */
  readonly consoleObjects: string;
  readonly distribution: IConstruct;
  readonly alarmTopic: IConstruct;
}

const BASIC_ROLE = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
const VPC_ROLE = 'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole';

function ack(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Apply every acknowledgement. */
export function suppressFindings(s: NagScope): void {
  for (const fn of s.functions) {
    ack(
      fn,
      'AwsSolutions-L1',
      'The runtime is pinned to nodejs22.x on purpose (the tested target); moved deliberately.',
    );
    ack(fn, 'Serverless-LambdaLatestVersion', 'As AwsSolutions-L1: nodejs22.x is the pinned, tested runtime.');
    ack(
      fn,
      'Serverless-LambdaDLQ',
      'No function is invoked asynchronously with a payload worth keeping: the API and the steps are invoked ' +
        'synchronously (API Gateway, Step Functions with Retry/Catch), the dispatcher by an event source mapping ' +
        'with its own on-failure queue, the sweeper by a schedule whose next run redoes a failed one.',
    );
    ack(
      fn,
      `AwsSolutions-IAM4[${BASIC_ROLE}]`,
      'AWSLambdaBasicExecutionRole only allows writing the function’s own CloudWatch logs.',
    );
    ack(
      fn,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) cannot be scoped to a resource; the ' +
        "dispatcher's dynamodb:ListStreams likewise. No data action has a wildcard resource.",
    );
  }
  const perFunction: Array<[readonly IConstruct[], string, string]> = [
    [
      s.indexReaders,
      `AwsSolutions-IAM5[Resource::${s.indexResource}]`,
      'Queries on the table’s own global secondary indexes (byKind, refN, dirty), all derived from the registry.',
    ],
    [
      s.secretReaders,
      `AwsSolutions-IAM5[Resource::${s.secretResource}]`,
      'GetSecretValue on the stage’s controller-credential prefix only; secret ARNs end in a random suffix.',
    ],
    [
      s.secretWriters,
      `AwsSolutions-IAM5[Resource::${s.secretResource}]`,
      'CreateSecret/PutSecretValue on the stage’s controller-credential prefix only (write-only credentials route).',
    ],
    [
      s.secretReaders,
      `AwsSolutions-IAM4[${VPC_ROLE}]`,
      'With a back-end VPC: AWSLambdaVPCAccessExecutionRole only manages the function’s own network interfaces.',
    ],
  ];
  for (const [functions, id, reason] of perFunction) for (const fn of functions) ack(fn, id, reason);
  ack(
    s.sweepRule,
    'Serverless-EventBusDLQ',
    'A missed sweep is redone by the next scheduled one; there is nothing to keep.',
  );
  ack(
    s.stateMachine,
    'AwsSolutions-SF1',
    'Standard workflows keep the full execution history for 90 days in Step Functions itself; logging ALL ' +
      'events to CloudWatch would double that at ~20 log events per sync. Errors are logged.',
  );
  ack(
    s.stateMachine,
    'AwsSolutions-IAM5[Resource::*]',
    'X-Ray tracing and CloudWatch Logs delivery (logs:*LogDelivery*) cannot be scoped to a resource.',
  );
  ack(
    s.alarmTopic,
    'Serverless-SNSRedrivePolicy',
    'E-mail alarm notifications: CloudWatch keeps the alarm state and the dashboard shows it; a queue of ' +
      'undelivered e-mails would have no reader.',
  );
  ack(s.deadLetters, 'AwsSolutions-SQS3', 'This queue is itself the dead-letter queue of the stream dispatcher.');
  ack(s.deadLetters, 'Serverless-SQSRedrivePolicy', 'This queue is itself a dead-letter queue.');
  for (const route of s.publicRoutes)
    ack(route, 'AwsSolutions-APIG4', 'Health check and OpenAPI document are public by design (as locally).');
  ack(
    s.userPool,
    'AwsSolutions-COG8',
    'The Plus feature plan (threat protection) is priced per monthly active user; MFA is required instead. ' +
      'Enable it for production with featurePlan if the operators want adaptive authentication.',
  );
  ack(
    s.consoleBucket,
    'AwsSolutions-S1',
    'The bucket holds the public console build only, written by the deployment; reads go through CloudFront.',
  );
  ack(s.distribution, 'AwsSolutions-CFR1', 'Operators may sign in from anywhere; no geographic restriction.');
  ack(s.distribution, 'AwsSolutions-CFR2', 'Static console files only; the API has its own throttling and JWT checks.');
  ack(s.distribution, 'AwsSolutions-CFR3', 'Access logs of static console files are not needed (cost).');
  ack(
    s.distribution,
    'AwsSolutions-CFR4',
    'The default CloudFront certificate fixes the viewer TLS policy; a custom domain with TLSv1.2_2021 is a ' +
      'deployment option (docs/deploy.md).',
  );

  // The CDK-provided BucketDeployment handler (a singleton at stack level, not our code).
  for (const child of s.stack.node.children) {
    if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
    const why = 'CDK’s own BucketDeployment handler, run once per deployment to copy the console files.';
    for (const id of [
      'AwsSolutions-L1',
      'Serverless-LambdaLatestVersion',
      'Serverless-LambdaDLQ',
      'Serverless-LambdaTracing',
      `AwsSolutions-IAM4[${BASIC_ROLE}]`,
    ])
      ack(child, id, why);
    const assets = `arn:aws:s3:::cdk-hnb659fds-assets-${s.stack.account}-${s.stack.region}/*`;
    for (const finding of [
      'Action::s3:Abort*',
      'Action::s3:DeleteObject*',
      'Action::s3:GetBucket*',
      'Action::s3:GetObject*',
      'Action::s3:List*',
      'Resource::*',
      `Resource::${s.consoleObjects}`,
      `Resource::${assets}`,
    ])
      ack(child, `AwsSolutions-IAM5[${finding}]`, why);
  }
}
