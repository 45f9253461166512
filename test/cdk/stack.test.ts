// biome-ignore-all lint/suspicious/noExplicitAny: CloudFormation templates are inspected dynamically
/**
 * The dev stage's template, read like a checklist: the table is the registry's, the stream feeds
 * the dispatcher safely, every function may do exactly what it needs, the state machine is the
 * statemachines/ file and runs, every registry route exists, every failure signal has an alarm,
 * and cdk-nag finds nothing unacknowledged. One synthesis for the whole file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { type LambdaSpec, lambdaSpecs } from '../../infra/cdk/lambdas';
import { ALARM_SIGNALS } from '../../infra/cdk/monitoring';
import { apiRoutes } from '../../infra/cdk/routes';
import { type LocalLambdaHandler, LocalWorkflows } from '../../infra/local/workflow-runner';
import { CORE_PREFIX } from '../../shared/api/app';
import { MODELS } from '../../shared/model/registry';
import { META, TABLE_DEFINITION } from '../../shared/model/table';
import { placeholders, substituteDefinition } from '../../shared/sync/asl';
import { RECONCILE_DEFINITION_PATH, RECONCILE_STEPS } from '../../shared/sync/workflow';
import { resourcesOf, type Synthesized, synthesize } from './synth';

let s: Synthesized;
beforeAll(() => {
  s = synthesize();
}, 180_000);

const specs = lambdaSpecs();

/** The Lambda resource of a spec, by its function name. */
function lambdaOf(spec: LambdaSpec): [string, any] {
  const found = Object.entries(resourcesOf(s.json, 'AWS::Lambda::Function')).find(
    ([, r]) => r.Properties.FunctionName === `xos-dev-${spec.name}`,
  );
  if (!found) throw new Error(`no function xos-dev-${spec.name}`);
  return found;
}

/** Every IAM statement attached to a role (by the role's logical id). */
function statementsOf(roleLogicalId: string): any[] {
  return Object.values(resourcesOf(s.json, 'AWS::IAM::Policy'))
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleLogicalId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

describe('table', () => {
  test('keys, indexes and stream are exactly the registry-derived table definition', () => {
    const [table] = Object.values(resourcesOf(s.json, 'AWS::DynamoDB::Table'));
    const p = table.Properties;
    expect(p.KeySchema).toEqual([
      { AttributeName: TABLE_DEFINITION.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_DEFINITION.sortKey, KeyType: 'RANGE' },
    ]);
    expect(
      p.GlobalSecondaryIndexes.map((g: any) => ({
        name: g.IndexName,
        partitionKey: g.KeySchema[0].AttributeName,
        sortKey: g.KeySchema[1].AttributeName,
        projection: g.Projection.ProjectionType,
      })),
    ).toEqual(
      TABLE_DEFINITION.indexes.map((i) => ({
        name: i.name,
        partitionKey: i.partitionKey,
        sortKey: i.sortKey,
        projection: 'ALL',
      })),
    );
    const keyAttributes = new Set([
      TABLE_DEFINITION.partitionKey,
      TABLE_DEFINITION.sortKey,
      ...TABLE_DEFINITION.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
    ]);
    expect(p.AttributeDefinitions).toHaveLength(keyAttributes.size);
    for (const a of p.AttributeDefinitions) expect(keyAttributes.has(a.AttributeName) && a.AttributeType).toBe('S');
    expect(p.StreamSpecification).toEqual({ StreamViewType: TABLE_DEFINITION.stream });
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(p.SSESpecification).toMatchObject({ SSEEnabled: true });
  });

  test('a dev stage deletes its data with the stack', () => {
    const [table] = Object.values(resourcesOf(s.json, 'AWS::DynamoDB::Table'));
    expect(table.DeletionPolicy).toBe('Delete');
    expect(table.Properties.DeletionProtectionEnabled ?? false).toBe(false);
  });
});

describe('stream event source', () => {
  test('object items only, bisect on error, bounded retries, batch item failures, on-failure DLQ', () => {
    const [mapping] = Object.values(resourcesOf(s.json, 'AWS::Lambda::EventSourceMapping'));
    const p = mapping.Properties;
    expect(p.FunctionName).toEqual({ Ref: lambdaOf(specs.find((x) => x.name === 'dispatch') as LambdaSpec)[0] });
    expect(p.BisectBatchOnFunctionError).toBe(true);
    expect(p.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(p.MaximumRetryAttempts).toBeLessThanOrEqual(10);
    expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    const [dlqId] = Object.keys(resourcesOf(s.json, 'AWS::SQS::Queue'));
    expect(p.DestinationConfig.OnFailure.Destination).toEqual({ 'Fn::GetAtt': [dlqId, 'Arn'] });
    expect(p.FilterCriteria.Filters.map((f: any) => JSON.parse(f.Pattern))).toEqual([
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { SK: { S: [META] } } } },
    ]);
  });
});

describe('functions', () => {
  test('one per spec: nodejs22.x on arm64, active tracing, Powertools service name', () => {
    for (const spec of specs) {
      const p = lambdaOf(spec)[1].Properties;
      expect(p).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
      expect(p.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe(`xos-${spec.name}`);
    }
  });

  test.each(specs.map((spec) => [spec.name, spec] as const))(
    '%s: its IAM policy grants only what it uses',
    (_name, spec) => {
      const [, fn] = lambdaOf(spec);
      const statements = statementsOf(fn.Properties.Role['Fn::GetAtt'][0]);
      const actions = new Set(statements.flatMap((st) => list(st.Action)));
      for (const st of statements) {
        for (const action of list(st.Action)) expect(action).not.toMatch(/\*/);
        // Only tracing and stream listing may name every resource: never a data action.
        if (list(st.Resource).includes('*'))
          for (const action of list(st.Action))
            expect(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'dynamodb:ListStreams']).toContain(action);
      }
      const read = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
      const write = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
      const stream = [
        'dynamodb:DescribeStream',
        'dynamodb:GetRecords',
        'dynamodb:GetShardIterator',
        'dynamodb:ListStreams',
      ];
      const expected = new Set([
        ...(spec.table === 'none' ? [] : read),
        ...(spec.table === 'readWrite' ? write : []),
        ...(spec.name === 'dispatch'
          ? [...stream, 'sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']
          : []),
        ...(spec.startsExecutions ? ['states:StartExecution'] : []),
        ...(spec.backendFacing ? ['secretsmanager:GetSecretValue'] : []),
        ...(spec.writesSecrets ? ['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue'] : []),
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
      ]);
      expect([...actions].sort()).toEqual([...expected].sort());
      for (const st of statements) {
        const acts = list(st.Action);
        if (acts.some((a: string) => a.startsWith('secretsmanager:')))
          expect(JSON.stringify(st.Resource)).toContain('secret:xos/dev/controllers/*');
        if (acts.includes('states:StartExecution'))
          expect(JSON.stringify(st.Resource)).toContain('stateMachine:xos-dev-reconcile');
      }
    },
  );
});

describe('reconcile state machine', () => {
  const file = () => JSON.parse(readFileSync(join(__dirname, '..', '..', RECONCILE_DEFINITION_PATH), 'utf8'));
  const machine = () => Object.values(resourcesOf(s.json, 'AWS::StepFunctions::StateMachine'))[0].Properties;
  /** Placeholder -> the ARN of the function the template substitutes (by the function's name). */
  const substitutions = () =>
    Object.fromEntries(
      Object.entries(machine().DefinitionSubstitutions as Record<string, any>).map(([key, value]) => {
        const fn = s.json.Resources[value['Fn::GetAtt'][0]];
        return [key, `arn:aws:lambda:eu-west-1:123456789012:function:${fn.Properties.FunctionName}`];
      }),
    );

  test('the definition is statemachines/reconcile.asl.json, equal after substitution', () => {
    const synthesized = JSON.parse(machine().DefinitionString);
    expect(synthesized).toEqual(file());
    expect(Object.keys(substitutions()).sort()).toEqual(placeholders(file()));
    expect(substituteDefinition(synthesized, substitutions())).toEqual(substituteDefinition(file(), substitutions()));
  });

  test('every task placeholder is bound to the Lambda of its step', () => {
    for (const [placeholder, arn] of Object.entries(substitutions()))
      expect(arn).toMatch(new RegExp(`:function:xos-dev-step-${RECONCILE_STEPS[placeholder]?.name}$`));
  });

  test('the synthesized definition executes in the local ASL runner', async () => {
    const calls: string[] = [];
    const result: Record<string, (e: any) => unknown> = {
      load: (e) => ({ ...e, load: { action: 'sync', policy: true } }),
      policies: () => ({ ran: true, ok: true }),
      dependencies: () => ({ status: 'ready' }),
      sync: () => ({ settled: false, handle: 'h-1' }),
      check: () => ({ settled: true, polls: 1 }),
      delete: () => ({ removed: true }),
      record: () => ({ recorded: 'enacted' }),
    };
    const handlers: Record<string, LocalLambdaHandler> = {};
    for (const arn of Object.values(substitutions())) {
      const step = arn.split(':function:xos-dev-step-')[1] as string;
      handlers[arn] = async (event) => {
        calls.push(step);
        return result[step]?.(event);
      };
    }
    const workflows = new LocalWorkflows({
      definition: JSON.parse(machine().DefinitionString),
      substitutions: substitutions(),
      handlers,
      timeScale: 0.001,
    });
    await workflows.start('Slice-01J000000000000000000000-v1', {
      kind: 'Slice',
      id: '01J000000000000000000000',
      version: 1,
      reason: 'stream',
    });
    await workflows.idle();
    const [run] = workflows.list();
    expect(run?.status).toBe('SUCCEEDED');
    expect(calls).toEqual(['load', 'policies', 'dependencies', 'sync', 'check', 'record']);
    await workflows.stop();
  });

  test('Standard type, X-Ray tracing, error logs; invoke rights on exactly the step functions', () => {
    const p = machine();
    expect(p.StateMachineType).toBe('STANDARD');
    expect(p.TracingConfiguration).toEqual({ Enabled: true });
    expect(p.LoggingConfiguration.Level).toBe('ERROR');
    const role = p.RoleArn['Fn::GetAtt'][0];
    const invoke = statementsOf(role).filter((st) => list(st.Action).includes('lambda:InvokeFunction'));
    const resources = invoke.flatMap((st) => list(st.Resource)).map((r: any) => r['Fn::GetAtt'][0]);
    const steps = specs.filter((x) => x.placeholder).map((x) => lambdaOf(x)[0]);
    expect(resources.sort()).toEqual(steps.sort());
  });
});

describe('HTTP API', () => {
  const routeKeys = () =>
    new Map(
      Object.values(resourcesOf(s.json, 'AWS::ApiGatewayV2::Route')).map((r) => [
        r.Properties.RouteKey as string,
        r.Properties.AuthorizationType as string,
      ]),
    );

  test('every route the registry declares is present, behind the JWT authorizer', () => {
    const keys = routeKeys();
    for (const model of MODELS) {
      const base = `${CORE_PREFIX}${model.plural}`;
      for (const key of [`ANY ${base}`, `ANY ${base}/{id}`, `ANY ${base}/{id}/{action}`])
        expect([key, keys.get(key)]).toEqual([key, 'JWT']);
    }
    expect(keys.get('GET /healthz')).toBe('NONE');
    expect(keys.get('GET /openapi.json')).toBe('NONE');
    expect(keys.size).toBe(apiRoutes().length);
  });

  test('the authorizer trusts the stage user pool and the console client', () => {
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Audience: [Match.anyValue()], Issuer: Match.anyValue() },
    });
    s.template.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON' });
  });

  test('access logs and throttling on the stage', () => {
    s.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      AccessLogSettings: Match.objectLike({ Format: Match.stringLikeRegexp('routeKey') }),
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: Match.anyValue() }),
    });
  });
});

describe('operations', () => {
  test.each([...ALARM_SIGNALS])('an alarm for %s notifies the alarm topic', (signal) => {
    const alarm = Object.values(resourcesOf(s.json, 'AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.AlarmName === `xos-dev-${signal}`,
    );
    expect(alarm).toBeDefined();
    const [topic] = Object.keys(resourcesOf(s.json, 'AWS::SNS::Topic'));
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topic }]);
  });

  test('alarms watch the right metrics', () => {
    const metrics = Object.values(resourcesOf(s.json, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties.MetricName);
    expect(metrics.sort()).toEqual(
      [
        '5xx',
        'ApproximateNumberOfMessagesVisible',
        'Errors',
        'ExecutionsFailed',
        'ExecutionsTimedOut',
        'IteratorAge',
        'Latency',
      ].sort(),
    );
  });

  test('the sweeper runs on a schedule; a dashboard exists', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    s.template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  test('the console: a private bucket behind CloudFront with origin access control', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    s.template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    s.template.resourceCountIs('Custom::CDKBucketDeployment', 1);
  });
});

describe('cdk-nag', () => {
  test('AwsSolutions: no unacknowledged finding', () => {
    expect(new AwsSolutionsChecks().validateScope(s.stack).violations).toEqual([]);
  });

  test('Serverless: no unacknowledged finding', () => {
    expect(new ServerlessChecks().validateScope(s.stack).violations).toEqual([]);
  });

  test('every acknowledgement carries a reason', () => {
    const acks = s.stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) expect([id, reason.length >= 30]).toEqual([id, true]);
  });
});
