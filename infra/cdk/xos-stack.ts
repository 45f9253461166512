/**
 * The whole XOS system on AWS (DESIGN sections 2 and 10): the single table from the registry's
 * table definition, the HTTP API with its Cognito JWT authorizer and registry-derived routes, the
 * stream dispatcher, the reconcile state machine from statemachines/, the sweeper schedule,
 * controller secrets, the console, and the dashboard and alarms.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ArnFormat, type CfnElement, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { type CfnStage, CorsHttpMethod, HttpApi, HttpMethod, type HttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { META, TABLE_DEFINITION } from '../../shared/model/table';
import { RECONCILE_DEFINITION_PATH } from '../../shared/sync/workflow';
import { ConsoleSite } from './console-site';
import { BUNDLE, type LambdaSpec, lambdaSpecs } from './lambdas';
import { Monitoring } from './monitoring';
import { suppressFindings } from './nag-suppressions';
import { apiRoutes } from './routes';
import type { StageConfig } from './stage';

/** The repository root (entries, the lockfile and statemachines/ are found from here). */
export const REPO_ROOT = resolve(__dirname, '..', '..');

/** DynamoDB TTL attribute of history items (shared/adapters/dynamodb/dynamo-store.ts writes it). */
const HISTORY_TTL_ATTRIBUTE = 'expires_at';

/** Read actions the store uses (GetItem, BatchGetItem, Query; ConditionCheck inside transactions). */
const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
/** Write actions the store uses (single writes and the items of TransactWriteItems). */
const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/** CloudWatch Logs accepts only these retention periods. */
const RETENTIONS = new Set(Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'));

/** Properties of the stack. */
export interface XosStackProps extends StackProps {
  readonly config: StageConfig;
}

/** The XOS stack of one stage. */
export class XosStack extends Stack {
  readonly table: dynamodb.Table;
  readonly functions: ReadonlyMap<string, NodejsFunction>;
  readonly stateMachine: sfn.StateMachine;
  readonly api: HttpApi;
  readonly deadLetters: sqs.Queue;

  constructor(scope: Construct, id: string, props: XosStackProps) {
    super(scope, id, props);
    const { config } = props;
    if (!RETENTIONS.has(config.retentionDays))
      throw new Error(`retentionDays ${config.retentionDays} is not a CloudWatch Logs retention period`);
    const removal = config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const retention = config.retentionDays as logs.RetentionDays;
    const prefix = `xos-${config.stage}`;

    // Table: keys, indexes and stream exactly as the registry derives them.
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: prefix,
      partitionKey: { name: TABLE_DEFINITION.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_DEFINITION.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      stream: dynamodb.StreamViewType[TABLE_DEFINITION.stream],
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: config.retainData,
      removalPolicy: removal,
      timeToLiveAttribute: HISTORY_TTL_ATTRIBUTE,
    });
    for (const index of TABLE_DEFINITION.indexes)
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });

    // The state machine's ARN is known before it exists, so functions that start executions do
    // not depend on it (it depends on them through its task substitutions).
    const stateMachineName = `${prefix}-reconcile`;
    const stateMachineArn = this.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const secretArn = this.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${config.secretPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // Users and the JWT authorizer: the gateway verifies Cognito ID tokens; the API maps their claims
    // (custom:xos_user_id, else the verified email) to an XOS User, whose own flags grant rights.
    const users = new cognito.UserPool(this, 'Users', {
      userPoolName: prefix,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      customAttributes: { xos_user_id: new cognito.StringAttribute({ mutable: true, minLen: 1, maxLen: 64 }) },
      deletionProtection: config.retainData,
      removalPolicy: removal,
    });
    const client = users.addClient('Console', {
      userPoolClientName: `${prefix}-console`,
      authFlows: { userSrp: true },
      generateSecret: false,
      preventUserExistenceErrors: true,
      idTokenValidity: Duration.hours(1),
      // Users must never write the attributes the API trusts (xos_user_id, email).
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ fullname: true }),
    });
    const issuer = `https://cognito-idp.${this.region}.amazonaws.com/${users.userPoolId}`;

    // Functions.
    const vpc = config.backendVpc
      ? ec2.Vpc.fromVpcAttributes(this, 'BackendVpc', {
          vpcId: config.backendVpc.vpcId,
          availabilityZones: config.backendVpc.availabilityZones,
          privateSubnetIds: config.backendVpc.subnetIds,
        })
      : undefined;
    const functions = new Map<string, NodejsFunction>();
    const specs = lambdaSpecs();
    for (const spec of specs) {
      const environment: Record<string, string> = {
        POWERTOOLS_SERVICE_NAME: `xos-${spec.name}`,
        POWERTOOLS_METRICS_NAMESPACE: 'XOS',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        XOS_STAGE: config.stage,
      };
      if (spec.table !== 'none') environment.TABLE_NAME = this.table.tableName;
      if (spec.startsExecutions) environment.STATE_MACHINE_ARN = stateMachineArn;
      if (spec.backendFacing || spec.writesSecrets) environment.XOS_SECRET_PREFIX = config.secretPrefix;
      if (spec.name === 'api') environment.XOS_AUTH = 'gateway-jwt';
      const fn = new NodejsFunction(this, fnId(spec), {
        functionName: `${prefix}-${spec.name}`,
        description: spec.description,
        entry: join(REPO_ROOT, spec.entry),
        handler: 'handler',
        projectRoot: REPO_ROOT,
        depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: spec.memoryMb,
        timeout: Duration.seconds(spec.timeoutSeconds),
        tracing: lambda.Tracing.ACTIVE,
        environment,
        logGroup: new logs.LogGroup(this, `${fnId(spec)}Logs`, {
          logGroupName: `/aws/lambda/${prefix}-${spec.name}`,
          retention,
          removalPolicy: removal,
        }),
        reservedConcurrentExecutions:
          spec.placeholder && config.stepConcurrency > 0 ? config.stepConcurrency : undefined,
        ...(vpc && spec.backendFacing && { vpc, vpcSubnets: { subnets: vpc.privateSubnets } }),
        bundling: {
          minify: BUNDLE.minify,
          sourceMap: BUNDLE.sourceMap,
          target: BUNDLE.target,
          externalModules: [...BUNDLE.externalModules],
          format: OutputFormat.CJS,
        },
      });
      this.grantAccess(fn, spec, stateMachineArn, secretArn);
      functions.set(spec.name, fn);
    }
    this.functions = functions;
    const fnOf = (name: string) => functions.get(name) as NodejsFunction;

    // Stream -> dispatch: object items only (the dispatcher compares versions, which a filter cannot).
    this.deadLetters = new sqs.Queue(this, 'DispatchDeadLetters', {
      queueName: `${prefix}-dispatch-dlq`,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    fnOf('dispatch').addEventSource(
      new DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        bisectBatchOnError: true,
        retryAttempts: 5,
        maxRecordAge: Duration.hours(6),
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.deadLetters),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.or('INSERT', 'MODIFY'),
            dynamodb: { Keys: { SK: { S: lambda.FilterRule.isEqual(META) } } },
          }),
        ],
      }),
    );

    // The reconcile state machine: the same ASL file the local runtime runs, tasks substituted.
    const steps = specs.filter((s) => s.placeholder);
    const stateMachineLogs = new logs.LogGroup(this, 'ReconcileLogs', {
      logGroupName: `/aws/vendedlogs/states/${stateMachineName}`,
      retention,
      removalPolicy: removal,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Reconcile', {
      stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(readFileSync(join(REPO_ROOT, RECONCILE_DEFINITION_PATH), 'utf8')),
      definitionSubstitutions: Object.fromEntries(
        steps.map((s) => [s.placeholder as string, fnOf(s.name).functionArn]),
      ),
      tracingEnabled: true,
      timeout: Duration.hours(2),
      logs: { destination: stateMachineLogs, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    this.stateMachine.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: steps.map((s) => fnOf(s.name).functionArn),
      }),
    );

    // The sweeper: due work and drift, on a schedule.
    const sweepRule = new events.Rule(this, 'SweepSchedule', {
      ruleName: `${prefix}-sweep`,
      schedule: events.Schedule.rate(Duration.minutes(config.sweepMinutes)),
      targets: [new targets.LambdaFunction(fnOf('sweeper'), { retryAttempts: 0 })],
    });

    // The console, and the API (CORS for the console's origin only).
    const site = new ConsoleSite(this, 'Console', { retain: config.retainData, webDir: join(REPO_ROOT, 'web') });
    this.api = new HttpApi(this, 'Api', {
      apiName: prefix,
      corsPreflight: {
        allowOrigins: [`https://${site.distribution.distributionDomainName}`],
        allowHeaders: ['authorization', 'content-type', 'if-match'],
        allowMethods: [CorsHttpMethod.ANY],
        exposeHeaders: ['etag', 'location', 'x-request-id'],
        maxAge: Duration.hours(1),
      },
    });
    const authorizer = new HttpJwtAuthorizer('Cognito', issuer, { jwtAudience: [client.userPoolClientId] });
    const integration = new HttpLambdaIntegration('ApiFunction', fnOf('api'), { scopePermissionToRoute: false });
    const publicRoutes = apiRoutes().flatMap((route) => {
      const added = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        authorizer: route.authorized ? authorizer : undefined,
      });
      return route.authorized ? [] : added;
    });
    this.configureStage(this.api.defaultStage as HttpStage, retention, removal, prefix);
    site.publishConfig({
      apiUrl: this.api.apiEndpoint,
      region: this.region,
      userPoolId: users.userPoolId,
      userPoolClientId: client.userPoolClientId,
    });

    const monitoring = new Monitoring(this, 'Monitoring', {
      prefix,
      alarmEmail: config.alarmEmail,
      api: this.api,
      dispatch: fnOf('dispatch'),
      sweeper: fnOf('sweeper'),
      functions: [...functions.values()],
      stateMachine: this.stateMachine,
      deadLetters: this.deadLetters,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'ConsoleUrl', { value: `https://${site.distribution.distributionDomainName}` });
    new CfnOutput(this, 'UserPoolId', { value: users.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: client.userPoolClientId });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
    new CfnOutput(this, 'SecretPrefix', { value: config.secretPrefix });

    const logicalId = (c: Construct) => this.getLogicalId(c.node.defaultChild as CfnElement);
    suppressFindings({
      stack: this,
      functions: [...functions.values()],
      indexReaders: specs.filter((s) => s.table !== 'none').map((s) => fnOf(s.name)),
      secretReaders: specs.filter((s) => s.backendFacing).map((s) => fnOf(s.name)),
      secretWriters: specs.filter((s) => s.writesSecrets).map((s) => fnOf(s.name)),
      indexResource: `<${logicalId(this.table)}.Arn>/index/*`,
      secretResource: secretArn,
      sweepRule,
      stateMachine: this.stateMachine,
      deadLetters: this.deadLetters,
      publicRoutes,
      userPool: users,
      consoleBucket: site.bucket,
      consoleObjects: `<${logicalId(site.bucket)}.Arn>/*`,
      distribution: site.distribution,
      alarmTopic: monitoring.topic,
    });
  }

  /** Exactly the accesses a function's spec declares, on exactly its resources. */
  private grantAccess(fn: NodejsFunction, spec: LambdaSpec, stateMachineArn: string, secretArn: string): void {
    const tableResources = [this.table.tableArn, `${this.table.tableArn}/index/*`];
    if (spec.table !== 'none')
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: spec.table === 'readWrite' ? [...TABLE_READ, ...TABLE_WRITE] : TABLE_READ,
          resources: tableResources,
        }),
      );
    if (spec.startsExecutions)
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn] }));
    if (spec.backendFacing)
      fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn] }),
      );
    if (spec.writesSecrets)
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue'],
          resources: [secretArn],
        }),
      );
  }

  /** Access logs and throttling on the API's default stage. */
  private configureStage(stage: HttpStage, retention: logs.RetentionDays, removal: RemovalPolicy, prefix: string) {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      logGroupName: `/aws/apigateway/${prefix}`,
      retention,
      removalPolicy: removal,
    });
    const cfn = stage.node.defaultChild as CfnStage;
    cfn.accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      format: JSON.stringify({
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        method: '$context.httpMethod',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latency: '$context.responseLatency',
        integrationError: '$context.integrationErrorMessage',
        authorizerError: '$context.authorizer.error',
      }),
    };
    cfn.defaultRouteSettings = { throttlingBurstLimit: 200, throttlingRateLimit: 100 };
  }
}

/** Construct id of a function: `api` -> `ApiFunction`, `step-load` -> `StepLoadFunction`. */
function fnId(spec: LambdaSpec): string {
  return `${spec.name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}Function`;
}
