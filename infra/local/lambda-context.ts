/**
 * The Lambda context object the local runtime hands to unchanged handlers (the API, dispatch and
 * step handlers), with a real remaining-time countdown.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/** A Lambda context for a local invocation of `functionName`. */
export function localLambdaContext(
  functionName: string,
  options: { functionArn?: string; timeoutMs?: number; requestId?: string } = {},
): Context {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  return {
    awsRequestId: options.requestId ?? randomUUID(),
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: options.functionArn ?? `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    memoryLimitInMB: '1024',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
