/**
 * A complete local stack for one test file: its own table in the shared DynamoDB Local, the API
 * composed as in production, the unchanged Lambda handler behind the local dev server (real HTTP
 * on 127.0.0.1, free port), and a bootstrapped admin with a known password.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeHandler } from '../../functions/api/handler';
import { bootstrap } from '../../infra/local/bootstrap';
import { type DevServer, startDevServer } from '../../infra/local/dev-server';
import { type ComposedApi, composeApi, dynamoClientConfig } from '../../shared/adapters/compose';
import type { Logger } from '../../shared/api/errors';
import type { SessionPolicy } from '../../shared/auth/sessions';
import { MemorySecrets } from '../../shared/secrets/secrets';
import type { WorkflowStarter } from '../../shared/sync/contract';

/** Credentials of the admin every test stack starts with. */
export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'correct horse battery staple';

/** A parsed HTTP response. */
export interface HttpResult {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected dynamically
  readonly body: any;
  readonly text: string;
}

/** A running test stack. */
export interface TestStack {
  readonly url: string;
  readonly tableName: string;
  readonly composed: ComposedApi;
  readonly server: DevServer;
  readonly client: DynamoDBClient;
  readonly adminToken: string;
  /** Log lines written by the API (errors, failed logins, audit records). */
  readonly logs: string[];
  /** Where controller credentials set through the API land. */
  readonly secrets: MemorySecrets;
  /** Send a request; `body` objects are JSON-encoded, strings sent as is. */
  request(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null; headers?: Record<string, string> },
  ): Promise<HttpResult>;
  close(): Promise<void>;
}

/** The DynamoDB Local endpoint of this test run. */
export function testEndpoint(): string {
  const endpoint = process.env.XOS_TEST_DYNAMODB_ENDPOINT;
  if (!endpoint)
    throw new Error('XOS_TEST_DYNAMODB_ENDPOINT is not set: run through jest (global setup starts DynamoDB Local)');
  return endpoint;
}

/** Start a stack. */
export async function startTestStack(
  options: { tokenTtlSeconds?: number; starter?: WorkflowStarter; sessionPolicy?: Partial<SessionPolicy> } = {},
): Promise<TestStack> {
  const endpoint = testEndpoint();
  const tableName = `xos-test-${randomBytes(6).toString('hex')}`;
  const logs: string[] = [];
  const log: Logger = {
    error: (message, detail) => logs.push(JSON.stringify({ level: 'ERROR', message, ...detail })),
    info: (message, detail) => logs.push(JSON.stringify({ level: 'INFO', message, ...detail })),
  };
  const tokenSecret = randomBytes(32).toString('base64url');
  const secrets = new MemorySecrets();
  const composed = composeApi({
    secrets: { write: async (ref, secret) => secrets.set(ref, secret) },
    sessionPolicy: options.sessionPolicy,
    tableName,
    dynamodbEndpoint: endpoint,
    tokenSecret,
    tokenTtlSeconds: options.tokenTtlSeconds,
    log,
    starter: options.starter,
  });
  const client = new DynamoDBClient(dynamoClientConfig(endpoint));
  await bootstrap({
    client,
    tableName,
    objects: composed.objects,
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
  });
  const server = await startDevServer(makeHandler(() => composed));

  const request: TestStack['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    const token = opts.token === undefined ? adminToken : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${server.url}${path}`, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  };

  let adminToken = '';
  const login = await request('POST', '/xosapi/v1/utility/login', {
    body: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    token: null,
  });
  if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${login.text}`);
  adminToken = login.body.token;

  return {
    url: server.url,
    tableName,
    composed,
    server,
    client,
    adminToken,
    logs,
    secrets,
    request,
    close: async () => {
      await server.close();
      client.destroy();
      composed.store.client.destroy();
    },
  };
}
