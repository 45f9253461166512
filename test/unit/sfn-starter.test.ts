import { ExecutionAlreadyExists, StartExecutionCommand, StateMachineDoesNotExist } from '@aws-sdk/client-sfn';
import { SfnWorkflowStarter, sfnStarterFromEnv } from '../../shared/adapters/sfn/sfn-starter';

const ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:xos-reconcile';
const input = { kind: 'Site', id: '01J0000000000000000000000A', version: 3, reason: 'stream' as const };

function fakeClient(fail?: Error) {
  const sent: StartExecutionCommand[] = [];
  return {
    sent,
    client: {
      send: async (command: StartExecutionCommand) => {
        sent.push(command);
        if (fail) throw fail;
        return { executionArn: `${ARN}:x`, startDate: new Date() };
      },
    },
  };
}

test('starts an execution with the name and the JSON input', async () => {
  const { client, sent } = fakeClient();
  const starter = new SfnWorkflowStarter({ stateMachineArn: ARN, client: client as never });
  expect(await starter.start('Site-01J0000000000000000000000A-v3', input)).toBe('started');
  expect(sent[0]).toBeInstanceOf(StartExecutionCommand);
  expect(sent[0]?.input).toEqual({
    stateMachineArn: ARN,
    name: 'Site-01J0000000000000000000000A-v3',
    input: JSON.stringify(input),
  });
});

test('ExecutionAlreadyExists is "exists"', async () => {
  const err = new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} });
  const starter = new SfnWorkflowStarter({ stateMachineArn: ARN, client: fakeClient(err).client as never });
  expect(await starter.start('n', input)).toBe('exists');
});

test('other errors propagate', async () => {
  const err = new StateMachineDoesNotExist({ message: 'State Machine Does Not Exist', $metadata: {} });
  const starter = new SfnWorkflowStarter({ stateMachineArn: ARN, client: fakeClient(err).client as never });
  await expect(starter.start('n', input)).rejects.toBe(err);
});

test('from the environment: STATE_MACHINE_ARN is required', () => {
  expect(() => sfnStarterFromEnv({})).toThrow(/STATE_MACHINE_ARN/);
  expect(sfnStarterFromEnv({ STATE_MACHINE_ARN: ARN, AWS_REGION: 'eu-west-1' }).stateMachineArn).toBe(ARN);
});
