/**
 * The Step Functions adapter of the WorkflowStarter port: one StartExecution per reconcile, named
 * by the caller so that duplicates collapse onto one execution.
 */
import { ExecutionAlreadyExists, SFNClient, type SFNClientConfig, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { ExecutionInput, WorkflowStarter } from '../../sync/contract';

/** What the starter needs from an SFN client (a real SFNClient, or a stand-in in tests). */
export type SfnSender = Pick<SFNClient, 'send'>;

/** Configuration of the Step Functions starter. */
export interface SfnStarterOptions {
  readonly stateMachineArn: string;
  /** A ready client; otherwise one is made from `clientConfig`. */
  readonly client?: SfnSender;
  readonly clientConfig?: SFNClientConfig;
}

/**
 * Starts reconcile executions with StartExecution. A name that already exists (running with other
 * input, or closed, within Step Functions' 90-day name retention) is 'exists'. Note that Step
 * Functions answers a repeated start of a still-running execution with identical input with
 * success and the same ARN, so that case reports 'started': either way exactly one execution runs.
 * Every other error (throttling after the SDK's retries, access denied, invalid name) propagates,
 * so the caller reports the record as failed and it is retried.
 */
export class SfnWorkflowStarter implements WorkflowStarter {
  readonly stateMachineArn: string;
  private readonly client: SfnSender;

  constructor(options: SfnStarterOptions) {
    if (!options.stateMachineArn) throw new Error('stateMachineArn is required');
    this.stateMachineArn = options.stateMachineArn;
    this.client = options.client ?? new SFNClient(options.clientConfig ?? {});
  }

  async start(name: string, input: ExecutionInput): Promise<'started' | 'exists'> {
    try {
      await this.client.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
      return 'started';
    } catch (err) {
      if (err instanceof ExecutionAlreadyExists || (err as { name?: unknown })?.name === 'ExecutionAlreadyExists')
        return 'exists';
      throw err;
    }
  }
}

/** The starter from the environment: STATE_MACHINE_ARN (required), AWS_REGION, SFN_ENDPOINT (optional). */
export function sfnStarterFromEnv(env: NodeJS.ProcessEnv = process.env): SfnWorkflowStarter {
  const stateMachineArn = env.STATE_MACHINE_ARN;
  if (!stateMachineArn) throw new Error('STATE_MACHINE_ARN is not set');
  const clientConfig: SFNClientConfig = {};
  if (env.AWS_REGION) clientConfig.region = env.AWS_REGION;
  if (env.SFN_ENDPOINT) clientConfig.endpoint = env.SFN_ENDPOINT;
  return new SfnWorkflowStarter({ stateMachineArn, clientConfig });
}
