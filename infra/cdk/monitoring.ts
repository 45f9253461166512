/**
 * One dashboard and one alarm per failure signal of the system: the stream falling behind
 * (iterator age), reconcile executions failing or timing out, the API answering 5xx or slowly,
 * poison stream records in the dead-letter queue, and the sweeper (the safety net) failing.
 * Alarms notify an SNS topic, with an e-mail subscription when `alarmEmail` is set.
 */
import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/** What is monitored. */
export interface MonitoringProps {
  readonly prefix: string;
  readonly alarmEmail?: string;
  readonly api: HttpApi;
  readonly dispatch: lambda.IFunction;
  readonly sweeper: lambda.IFunction;
  readonly functions: readonly lambda.IFunction[];
  readonly stateMachine: sfn.StateMachine;
  readonly deadLetters: sqs.IQueue;
}

/** The failure signals, by alarm id (the tests check one alarm per signal). */
export const ALARM_SIGNALS = [
  'StreamIteratorAge',
  'ExecutionsFailed',
  'ExecutionsTimedOut',
  'Api5xx',
  'ApiLatency',
  'DeadLetters',
  'SweeperErrors',
] as const;

/** Dashboard, alarms and their topic. */
export class Monitoring extends Construct {
  readonly topic: sns.Topic;
  readonly alarms: Record<(typeof ALARM_SIGNALS)[number], cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Alarms', { topicName: `${props.prefix}-alarms`, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const period = Duration.minutes(1);

    const iteratorAge = props.dispatch.metric('IteratorAge', { statistic: 'Maximum', period });
    const failed = props.stateMachine.metricFailed({ period });
    const timedOut = props.stateMachine.metricTimedOut({ period });
    const api5xx = props.api.metricServerError({ period });
    const latency = props.api.metricLatency({ statistic: 'p99', period });
    const deadLetters = props.deadLetters.metricApproximateNumberOfMessagesVisible({ period });
    const sweeperErrors = props.sweeper.metricErrors({ period: Duration.minutes(15) });

    const alarm = (name: string, metric: cloudwatch.IMetric, threshold: number, periods: number, what: string) => {
      const a = new cloudwatch.Alarm(this, name, {
        alarmName: `${props.prefix}-${name}`,
        alarmDescription: what,
        metric,
        threshold,
        evaluationPeriods: periods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(new SnsAction(this.topic));
      a.addOkAction(new SnsAction(this.topic));
      return a;
    };
    this.alarms = {
      StreamIteratorAge: alarm(
        'StreamIteratorAge',
        iteratorAge,
        60_000,
        5,
        'the dispatcher is more than a minute behind the table stream',
      ),
      ExecutionsFailed: alarm('ExecutionsFailed', failed, 1, 1, 'a reconcile execution failed (not a sync failure)'),
      ExecutionsTimedOut: alarm('ExecutionsTimedOut', timedOut, 1, 1, 'a reconcile execution timed out'),
      Api5xx: alarm('Api5xx', api5xx, 5, 3, 'the API answered 5xx'),
      ApiLatency: alarm('ApiLatency', latency, 2_000, 5, 'API p99 latency above 2 s'),
      DeadLetters: alarm('DeadLetters', deadLetters, 1, 1, 'stream records were given up and sit in the DLQ'),
      SweeperErrors: alarm('SweeperErrors', sweeperErrors, 2, 1, 'the sweeper failed twice in 15 minutes'),
    };

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.prefix });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'API requests and 5xx', left: [props.api.metricCount({ period }), api5xx] }),
      new cloudwatch.GraphWidget({
        title: 'API latency p50 / p99',
        left: [props.api.metricLatency({ period }), latency],
      }),
      new cloudwatch.GraphWidget({ title: 'Stream iterator age (ms)', left: [iteratorAge] }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Reconcile executions',
        left: [props.stateMachine.metricStarted({ period }), props.stateMachine.metricSucceeded({ period })],
        right: [failed, timedOut],
      }),
      new cloudwatch.GraphWidget({ title: 'Dead-lettered stream records', left: [deadLetters] }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: props.functions.map((f) => f.metricErrors({ period, label: f.node.id })),
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(this.alarms), width: 24 }),
    );
  }
}
