/**
 * `npm start`: the whole system locally with embedded defaults. Starts DynamoDB Local (persisted
 * under .data/ unless XOS_IN_MEMORY=1), creates the table, bootstraps the admin, serves the API on
 * 127.0.0.1:8080 (XOS_PORT) through the unchanged Lambda handler, and stops everything on
 * Ctrl-C / SIGTERM.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeHandler } from '../../functions/api/handler';
import { composeApi, dynamoClientConfig } from '../../shared/adapters/compose';
import type { SecretsWriter } from '../../shared/api/app';
import { ChainSecrets, EnvSecrets, FileSecrets, MemorySecrets, type SecretsPort } from '../../shared/secrets/secrets';
import type { WorkflowStarter } from '../../shared/sync/contract';
import { bootstrap, persistentSecret, SYSTEM_CALLER } from './bootstrap';
import { type DemoBackends, startDemoBackends } from './demo';
import { startDevServer } from './dev-server';
import { JavaMissingError, startDynamoDbLocal } from './dynamodb-local';
import { type SyncRuntime, startSyncRuntime } from './sync-runtime';

const TABLE = process.env.XOS_TABLE_NAME || 'xos';

async function main(): Promise<void> {
  const inMemory = process.env.XOS_IN_MEMORY === '1' || process.argv.includes('--in-memory');
  const dataDir = resolve(process.env.XOS_DATA_DIR || join(__dirname, '..', '..', '.data'));
  const port = Number(process.env.XOS_PORT || 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`XOS_PORT must be a port number, got ${process.env.XOS_PORT}`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(`xos: starting DynamoDB Local (${inMemory ? 'in memory' : `data in ${join(dataDir, 'dynamodb')}`}) ...`);
  const ddb = await startDynamoDbLocal({ dataDir: inMemory ? undefined : join(dataDir, 'dynamodb') });
  let server: Awaited<ReturnType<typeof startDevServer>> | undefined;
  let sync: SyncRuntime | undefined;
  let demo: DemoBackends | undefined;
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`xos: ${signal} received, shutting down ...`);
    await server?.close();
    await sync?.stop();
    await demo?.stop();
    await ddb.stop();
    log('xos: stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  try {
    const tokenSecret =
      process.env.XOS_TOKEN_SECRET || (inMemory ? undefined : persistentSecret(join(dataDir, 'token-secret')).value);
    const config = {
      tableName: TABLE,
      dynamodbEndpoint: ddb.endpoint,
      tokenSecret: tokenSecret ?? require('node:crypto').randomBytes(32).toString('base64url'),
    };
    // Resync starts executions in the local workflows, created just below.
    let workflows: WorkflowStarter | undefined;
    const starter: WorkflowStarter = { start: (name, input) => (workflows as WorkflowStarter).start(name, input) };
    const secrets = localSecrets(inMemory ? undefined : dataDir);
    const composed = composeApi({ ...config, starter, secrets: secrets.writer });
    const result = await bootstrap({
      client: new DynamoDBClient(dynamoClientConfig(ddb.endpoint)),
      tableName: TABLE,
      objects: composed.objects,
      adminEmail: process.env.XOS_ADMIN_EMAIL,
      adminPassword: process.env.XOS_ADMIN_PASSWORD,
      dataDir: inMemory ? undefined : dataDir,
    });
    demo = await startDemoBackends({
      latencyMs: Number(process.env.XOS_STANDIN_LATENCY_MS || 50),
      errorRate: Number(process.env.XOS_STANDIN_ERROR_RATE || 0),
      settleMs: Number(process.env.XOS_STANDIN_SETTLE_MS || 1000),
      secrets: secrets.reader,
    });
    await demo.seed(composed.objects, SYSTEM_CALLER, result.siteId);
    sync = await startSyncRuntime({
      endpoint: ddb.endpoint,
      tableName: TABLE,
      drivers: demo.router,
      store: composed.store,
      options: { leaseMs: 60_000, waitRecheckMs: 60_000 },
      sweepGraceMs: 10_000,
    });
    workflows = sync.workflows;
    server = await startDevServer(
      makeHandler(() => composed),
      port,
    );
    const url = server.url;
    log('');
    log(`xos: API ready at ${url}   (OpenAPI: ${url}/openapi.json)`);
    log('xos: synchronizer running (stream -> dispatch -> local Step Functions)');
    log(`xos: back-ends (local stand-ins, one demo deployment each): ${demo.endpoints.join(', ')}`);
    log(`xos: admin user ${result.adminEmail}`);
    if (result.generatedPassword) {
      log(
        `xos: generated admin password (shown once${result.passwordFile ? `; kept in ${result.passwordFile}, mode 0600` : ''}): ${result.generatedPassword}`,
      );
    } else if (!process.env.XOS_ADMIN_PASSWORD && result.passwordFile === undefined && !inMemory) {
      log(`xos: admin password: as set before (see ${join(dataDir, 'admin-password')} if it was generated)`);
    }
    const pw = process.env.XOS_ADMIN_PASSWORD ? '$XOS_ADMIN_PASSWORD' : (result.generatedPassword ?? '<password>');
    log('');
    log('Try it:');
    log(
      `  TOKEN=$(curl -s -X POST ${url}/xosapi/v1/utility/login -d '{"username":"${result.adminEmail}","password":"${pw}"}' | sed 's/.*"token":"\\([^"]*\\)".*/\\1/')`,
    );
    log(`  curl -s -H "Authorization: Bearer $TOKEN" ${url}/xosapi/v1/core/sites`);
    log('');
    log('Ctrl-C stops everything.');
  } catch (err) {
    await server?.close();
    await sync?.stop();
    await demo?.stop();
    await ddb.stop();
    throw err;
  }
}

/**
 * Controller credentials an operator adds locally: `PUT .../controllers/{id}/credentials` stores
 * them in the encrypted file .data/secrets.json (key in .data/secrets-key, 0600), or in memory for
 * in-memory runs; XOS_SECRET_<REF> environment variables are read too.
 */
function localSecrets(dataDir: string | undefined): { reader: SecretsPort; writer: SecretsWriter } {
  if (!dataDir) {
    const memory = new MemorySecrets();
    return {
      reader: new ChainSecrets([memory, new EnvSecrets()]),
      writer: { write: async (ref, secret) => memory.set(ref, secret) },
    };
  }
  const key = process.env.XOS_SECRETS_KEY || persistentSecret(join(dataDir, 'secrets-key')).value;
  const file = new FileSecrets(join(dataDir, 'secrets.json'), key);
  return {
    reader: new ChainSecrets([file, new EnvSecrets()]),
    writer: { write: async (ref, secret) => file.write(ref, secret) },
  };
}

main().catch((err: unknown) => {
  if (err instanceof JavaMissingError) {
    process.stderr.write(`xos: ${err.message}\n`);
  } else if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
    process.stderr.write(`xos: port ${process.env.XOS_PORT || 8080} is in use; set XOS_PORT to another port.\n`);
  } else {
    process.stderr.write(`xos: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  process.exit(1);
});
