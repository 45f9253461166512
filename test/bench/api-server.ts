/**
 * The API process of the benchmark, forked by api.ts: the API composed as in production, the
 * unchanged Lambda handler behind the local dev server (127.0.0.1, free port), a bootstrapped
 * admin. It runs in its own process so the load generator does not share its event loop, and its
 * memory is the API's alone. Over IPC it answers the DynamoDB call counter and memory questions.
 *
 * Environment: BENCH_DYNAMODB_ENDPOINT, BENCH_TABLE, BENCH_ADMIN_EMAIL, BENCH_ADMIN_PASSWORD.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeHandler } from '../../functions/api/handler';
import { bootstrap } from '../../infra/local/bootstrap';
import { startDevServer } from '../../infra/local/dev-server';
import { composeApi, dynamoClientConfig } from '../../shared/adapters/compose';
import type { Logger } from '../../shared/api/errors';

/** A question from the bench process. */
export type ServerCommand = 'calls-reset' | 'calls-snapshot' | 'memory' | 'stats' | 'log' | 'stop';

/** Messages the API process sends. */
export type ServerMessage =
  | { type: 'ready'; url: string; pid: number }
  | { type: 'reply'; id: number; data: unknown }
  | { type: 'fatal'; error: string };

/** Requests in flight and completed so far, and the CPU time used, of the API process. */
export interface ServerStats {
  readonly inflight: number;
  readonly completed: number;
  readonly cpu_ms: number;
}

/** What the API logged (errors are 5xx: there should be none). */
export interface ServerLog {
  readonly errors: number;
  readonly info: number;
  readonly samples: string[];
}

function send(message: ServerMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const endpoint = process.env.BENCH_DYNAMODB_ENDPOINT;
  const tableName = process.env.BENCH_TABLE;
  const adminEmail = process.env.BENCH_ADMIN_EMAIL;
  const adminPassword = process.env.BENCH_ADMIN_PASSWORD;
  if (!endpoint || !tableName || !adminEmail || !adminPassword || !process.send) {
    throw new Error('api-server is started by test/bench/api.ts (IPC and BENCH_* environment required)');
  }
  const log = { errors: 0, info: 0, samples: [] as string[] };
  const logger: Logger = {
    error: (message, detail) => {
      log.errors++;
      if (log.samples.length < 5) log.samples.push(JSON.stringify({ message, ...detail }).slice(0, 500));
    },
    info: () => {
      log.info++;
    },
  };
  const composed = composeApi({
    tableName,
    dynamodbEndpoint: endpoint,
    tokenSecret: randomBytes(32).toString('base64url'),
    log: logger,
  });
  const client = new DynamoDBClient(dynamoClientConfig(endpoint));
  await bootstrap({ client, tableName, objects: composed.objects, adminEmail, adminPassword });
  client.destroy();
  // Counted around the unchanged handler: the bench waits for requests a stopped load generator
  // left behind to finish before it measures the next phase.
  const handler = makeHandler(() => composed);
  let inflight = 0;
  let completed = 0;
  const server = await startDevServer(async (event, context) => {
    inflight++;
    try {
      return await handler(event, context);
    } finally {
      inflight--;
      completed++;
    }
  });

  process.on('message', async (msg: { id: number; cmd: ServerCommand }) => {
    const reply = (data: unknown) => send({ type: 'reply', id: msg.id, data });
    switch (msg.cmd) {
      case 'calls-reset':
        composed.store.calls.counts.clear();
        return reply(null);
      case 'calls-snapshot':
        return reply(Object.fromEntries(composed.store.calls.counts));
      case 'memory':
        return reply(process.memoryUsage());
      case 'stats': {
        const cpu = process.cpuUsage();
        const stats: ServerStats = { inflight, completed, cpu_ms: (cpu.user + cpu.system) / 1000 };
        return reply(stats);
      }
      case 'log':
        return reply(log);
      case 'stop':
        await server.close();
        composed.store.client.destroy();
        reply(null);
        process.disconnect();
        return;
    }
  });
  // The bench process going away (crash, Ctrl-C) must not leave this process behind.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', url: server.url, pid: process.pid });
}

main().catch((err) => {
  send({ type: 'fatal', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
});
