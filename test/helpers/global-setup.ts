/** One DynamoDB Local (in memory) for the whole test run; each test file makes its own table. */
import { startDynamoDbLocal } from '../../infra/local/dynamodb-local';

export default async function globalSetup(): Promise<void> {
  const ddb = await startDynamoDbLocal();
  process.env.XOS_TEST_DYNAMODB_ENDPOINT = ddb.endpoint;
  (globalThis as { __XOS_DDB__?: { stop(): Promise<void> } }).__XOS_DDB__ = ddb;
}
