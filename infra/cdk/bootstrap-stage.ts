/**
 * After a stage's first deploy: the default site and the first admin XOS User in the stage's
 * table, with the operator's AWS credentials (DynamoDB read/write on the table). The person then
 * signs in through the stage's Cognito user pool with the same (verified) e-mail address; the API
 * maps the token's e-mail to this user, whose `is_admin` grants the rights. Idempotent: a second
 * run finds both and changes nothing but re-asserting `is_admin`.
 *
 * Usage: npm run aws:bootstrap -- --stage dev --region eu-west-1 --email ops@example.com
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { composeApi } from '../../shared/adapters/compose';
import { bootstrap } from '../local/bootstrap';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { stage: { type: 'string', default: 'dev' }, region: { type: 'string' }, email: { type: 'string' } },
  });
  const region = values.region ?? process.env.AWS_REGION;
  if (!values.email || !region) throw new Error('usage: --stage <stage> --region <region> --email <admin e-mail>');
  const tableName = `xos-${values.stage}`;
  // The XOS password is never used in AWS (sign-in is Cognito's): a random one keeps the User valid.
  const password = randomBytes(24).toString('base64url');
  const { objects } = composeApi({ tableName, region, tokenSecret: randomBytes(32).toString('base64url') });
  const result = await bootstrap({
    client: new DynamoDBClient({ region }),
    tableName,
    objects,
    adminEmail: values.email,
    adminPassword: password,
  });
  console.log(
    JSON.stringify({ table: tableName, siteId: result.siteId, admin: result.adminEmail, created: result.createdAdmin }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
