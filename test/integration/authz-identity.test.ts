/**
 * Identities through real HTTP: refresh-token rotation (a replayed refresh token revokes the
 * session), logout, lockout after repeated failed logins and unlock after the period, the token's
 * user re-checked per request at one BatchGetItem (measured), callers from API Gateway's JWT
 * claims, the audit trail (per object, per user, one log line each), write-only controller
 * credentials, and a full run whose every log line and response is searched for secrets.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { makeHandler } from '../../functions/api/handler';
import { auditRecord } from '../../shared/authz/audit';
import { ConflictError } from '../../shared/errors';
import type { StoredObject } from '../../shared/store/store';
import {
  type ApiObject,
  corePath,
  createValid,
  expectError,
  type FixtureDeps,
  uniqueString,
  validBody,
} from '../helpers/fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type HttpResult, startTestStack, type TestStack } from '../helpers/stack';

const U = '/xosapi/v1/utility';
const LOCKOUT_SECONDS = 2;

let stack: TestStack;
let deps: FixtureDeps;
/** Every response body and header the run saw, for the leak check. */
const seen: string[] = [];
/** Tokens legitimately returned by login and refresh (may appear in those responses only). */
const issued: string[] = [];

async function req(
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null } = {},
): Promise<HttpResult> {
  const res = await stack.request(method, path, options);
  const isTokenResponse = path === `${U}/login` || path === `${U}/refresh`;
  if (isTokenResponse && res.status === 200) {
    issued.push(res.body.token, res.body.refresh_token);
  } else {
    seen.push(res.text, JSON.stringify([...res.headers.entries()]));
  }
  return res;
}

async function login(username: string, password: string): Promise<HttpResult> {
  return req('POST', `${U}/login`, { body: { username, password }, token: null });
}

async function newUser(password: string, extra: Record<string, unknown> = {}): Promise<ApiObject> {
  return createValid('User', deps, { password, is_admin: false, is_staff: false, ...extra });
}

beforeAll(async () => {
  stack = await startTestStack({ sessionPolicy: { maxFailures: 3, lockoutSeconds: LOCKOUT_SECONDS } });
  deps = { stack };
});
afterAll(async () => stack.close());

describe('sessions', () => {
  test('refresh rotates the pair; a replayed refresh token revokes the whole session', async () => {
    const password = `Pw-${uniqueString('refresh', 40)}`;
    const user = await newUser(password);
    const first = await login(user.email, password);
    expect(first.status).toBe(200);
    const second = await req('POST', `${U}/refresh`, {
      body: { refresh_token: first.body.refresh_token },
      token: null,
    });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.body.refresh_token);
    expect((await req('GET', corePath('Site'), { token: second.body.token })).status).toBe(200);
    // The first refresh token again: theft assumed, the session ends.
    const replay = await req('POST', `${U}/refresh`, {
      body: { refresh_token: first.body.refresh_token },
      token: null,
    });
    expectError(replay, 401, 'unauthorized');
    expectError(await req('GET', corePath('Site'), { token: second.body.token }), 401, 'unauthorized');
    expectError(
      await req('POST', `${U}/refresh`, { body: { refresh_token: second.body.refresh_token }, token: null }),
      401,
      'unauthorized',
    );
    expectError(
      await req('POST', `${U}/refresh`, { body: { refresh_token: 'nope' }, token: null }),
      401,
      'unauthorized',
    );
    expectError(await req('POST', `${U}/refresh`, { body: {}, token: null }), 400, 'validation_error', [
      'refresh_token',
    ]);
  });

  test('logout revokes the access token and the refresh token at once; other sessions live on', async () => {
    const password = `Pw-${uniqueString('logout', 40)}`;
    const user = await newUser(password);
    const a = await login(user.email, password);
    const b = await login(user.email, password);
    const out = await req('POST', `${U}/logout`, { token: a.body.token });
    expect(out.status).toBe(204);
    expectError(await req('GET', corePath('Site'), { token: a.body.token }), 401, 'unauthorized');
    expectError(
      await req('POST', `${U}/refresh`, { body: { refresh_token: a.body.refresh_token }, token: null }),
      401,
      'unauthorized',
    );
    expect((await req('GET', corePath('Site'), { token: b.body.token })).status).toBe(200);
    expectError(await req('POST', `${U}/logout`, { token: null }), 401, 'unauthorized');
  });

  test('a deactivated user loses access on the next request', async () => {
    const password = `Pw-${uniqueString('deact', 40)}`;
    const user = await newUser(password);
    const { token } = (await login(user.email, password)).body;
    expect((await req('GET', corePath('Site'), { token })).status).toBe(200);
    await req('PATCH', corePath('User', user.id), { body: { is_active: false, version: user.version } });
    expectError(await req('GET', corePath('Site'), { token }), 401, 'unauthorized');
  });

  test('lockout: after 3 failures the login is locked (429, Retry-After), even with the right password; unlocked after the period', async () => {
    const password = `Pw-${uniqueString('lock', 40)}`;
    const user = await newUser(password);
    for (let i = 0; i < 3; i++) expectError(await login(user.email, 'Wrong-password-1'), 401, 'unauthorized');
    const locked = await login(user.email, password);
    expectError(locked, 429, 'too_many_requests');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(locked.body.error.message).toMatch(/too many failed logins/);
    // Unknown logins lock the same way (no account enumeration).
    const ghost = `ghost-${uniqueString('g')}@example.com`;
    for (let i = 0; i < 3; i++) await login(ghost, 'Wrong-password-1');
    expectError(await login(ghost, 'Wrong-password-1'), 429, 'too_many_requests');
    await new Promise((r) => setTimeout(r, LOCKOUT_SECONDS * 1000 + 200));
    expect((await login(user.email, password)).status).toBe(200);
    // A success clears the count: two more failures do not lock.
    for (let i = 0; i < 2; i++) expectError(await login(user.email, 'Wrong-password-1'), 401, 'unauthorized');
    expect((await login(user.email, password)).status).toBe(200);
  });
});

describe('cost of authorization per request (DynamoDB calls, measured)', () => {
  async function calls(token: string, path: string): Promise<Record<string, number>> {
    const counter = stack.composed.store.calls;
    counter.counts.clear();
    const res = await req('GET', path, { token });
    expect(res.status).toBe(200);
    return Object.fromEntries(counter.counts);
  }

  test('admin: one BatchGetItem (user + session) besides the read itself; site user: one Query of its privileges more', async () => {
    const site = await createValid('Site', deps);
    const slice = await createValid('Slice', deps, { site_id: site.id });
    expect(await calls(stack.adminToken, corePath('Slice', slice.id))).toEqual({ BatchGetItem: 1, GetItem: 1 });
    const password = `Pw-${uniqueString('cost', 40)}`;
    const user = await newUser(password, { site_id: site.id });
    await createValid('Privilege', deps, {
      accessor_id: user.id,
      object_type: 'Site',
      object_id: site.id,
      permission: 'role:pi',
      granted: null,
      expires: null,
    });
    const { token } = (await login(user.email, password)).body;
    const one = await calls(token, corePath('Slice', slice.id));
    expect(one).toEqual({ BatchGetItem: 1, GetItem: 1, Query: 1 });
    // A list reads the privileges once, then one reference-index partition per site the role covers.
    const list = await calls(token, corePath('Slice'));
    expect(list).toEqual({ BatchGetItem: 1, Query: 3 });
    const anyone = await calls(token, corePath('Site', site.id));
    expect(anyone).toEqual({ BatchGetItem: 1, GetItem: 1 });
    process.stdout.write(
      `authz cost: admin GET ${JSON.stringify(await calls(stack.adminToken, corePath('Slice', slice.id)))}, site pi GET ${JSON.stringify(one)}, site pi list ${JSON.stringify(list)}\n`,
    );
  });
});

describe('callers from API Gateway JWT claims (Cognito)', () => {
  const context = { awsRequestId: 'req-jwt', functionName: 'api' } as unknown as Context;
  function event(claims: Record<string, unknown> | undefined, path = corePath('Site')): APIGatewayProxyEventV2 {
    return {
      version: '2.0',
      routeKey: '$default',
      rawPath: path,
      rawQueryString: '',
      headers: {},
      isBase64Encoded: false,
      requestContext: {
        accountId: '1',
        apiId: 'x',
        domainName: 'x',
        domainPrefix: 'x',
        requestId: 'r',
        routeKey: '$default',
        stage: '$default',
        time: '',
        timeEpoch: 0,
        http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '1.1.1.1', userAgent: 'test' },
        ...(claims ? { authorizer: { jwt: { claims, scopes: [] } } } : {}),
      },
    } as unknown as APIGatewayProxyEventV2;
  }
  const handler = () => makeHandler(() => stack.composed);

  test('email, cognito:username or custom:xos_user_id map to the XOS user; admin comes from the user, not the groups', async () => {
    const password = `Pw-${uniqueString('cognito', 40)}`;
    const user = await newUser(password, { username: uniqueString('cog', 40) });
    const h = handler();
    const call = async (claims: Record<string, unknown> | undefined, path?: string) =>
      // biome-ignore lint/suspicious/noExplicitAny: the middy handler's result is the v2 structured result
      (await (h as any)(event(claims, path), context)) as { statusCode: number; body: string };
    expect((await call({ email: user.email, 'cognito:groups': '[xos-admins]' })).statusCode).toBe(200);
    expect((await call({ 'cognito:username': user.username })).statusCode).toBe(200);
    expect((await call({ 'custom:xos_user_id': user.id, email: user.email })).statusCode).toBe(200);
    // Groups do not make an admin: creating a Flavor stays forbidden.
    const tag = await call({ email: user.email, 'cognito:groups': '[xos-admins]' }, corePath('Tag'));
    expect(JSON.parse(tag.body).items).toEqual([]);
    expect((await call({ email: ADMIN_EMAIL }, corePath('Tag'))).statusCode).toBe(200);
    expect((await call({ email: 'nobody@example.com' })).statusCode).toBe(401);
    expect((await call({ email: user.email, email_verified: 'false' })).statusCode).toBe(401);
    expect((await call({ sub: 'x' })).statusCode).toBe(401);
    expect((await call(undefined)).statusCode).toBe(401);
  });
});

describe('audit', () => {
  test('every write records who, what, when, versions and changed fields; per object and per user; one log line each', async () => {
    const site = await createValid('Site', deps);
    const slice = await createValid('Slice', deps, { site_id: site.id });
    const patched = await req('PATCH', corePath('Slice', slice.id), {
      body: { description: 'changed', max_instances: 3, version: slice.version },
    });
    expect(patched.status).toBe(200);
    expect((await req('DELETE', corePath('Site', site.id))).status).toBe(202);
    const audit = await req('GET', `${corePath('Slice', slice.id)}/audit`);
    expect(audit.status).toBe(200);
    const admin = (await req('GET', `${corePath('User')}?email=${ADMIN_EMAIL}`)).body.items[0];
    expect(audit.body.items.map((r: ApiObject) => [r.action, r.version_before, r.version_after])).toEqual([
      ['cascade_delete', 2, 3],
      ['update', 1, 2],
      ['create', null, 1],
    ]);
    expect(audit.body.items[1]).toMatchObject({
      actor_id: admin.id,
      actor_email: ADMIN_EMAIL,
      kind: 'Slice',
      object_id: slice.id,
      changed_fields: ['description', 'max_instances'],
      request_id: expect.any(String),
      time: expect.any(String),
    });
    const activity = await req('GET', `${corePath('User', admin.id)}/activity?limit=5`);
    expect(activity.status).toBe(200);
    // The site's delete and the cascades it caused commit together: their relative order is not defined.
    expect(activity.body.items).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'delete', kind: 'Site', object_id: site.id })]),
    );
    expect(activity.body.next_cursor).toEqual(expect.any(String));
    const next = await req('GET', `${corePath('User', admin.id)}/activity?limit=5&cursor=${activity.body.next_cursor}`);
    expect(next.body.items[0].id < activity.body.items[4].id).toBe(true);
    const lines = stack.logs.filter((l) => l.includes('"message":"audit"') && l.includes(slice.id));
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[1] as string).audit).toMatchObject({ action: 'update', version_after: 2 });
  });

  test('a write and its audit record commit in one transaction: both or neither', async () => {
    const site = await createValid('Site', deps);
    const calls = stack.composed.store.calls.counts;
    const before = new Map(calls);
    const patched = await req('PATCH', corePath('Site', site.id), {
      body: { abbreviated_name: 'one-tx', version: site.version },
    });
    expect(patched.status).toBe(200);
    const delta = (op: string) => (calls.get(op) ?? 0) - (before.get(op) ?? 0);
    expect(delta('TransactWriteItems')).toBe(1);
    expect(delta('BatchWriteItem')).toBe(0);
    const trail = await stack.composed.auth.listAuditOfObject('Site', site.id, 10);
    expect(trail.items.map((r) => r.action)).toEqual(['update', 'create']);

    // A write refused inside its transaction (a stale version) leaves no record either.
    const stale = patched.body as StoredObject;
    const record = auditRecord(
      { userId: 'u-stale', email: 'stale@example.com', isAdmin: true },
      'update',
      { ...stale, version: 1 },
      { ...stale, version: 2 },
      new Date().toISOString(),
    );
    await expect(
      stack.composed.store.replace(
        [{ before: { ...stale, version: 1 }, after: { ...stale, version: 2 } }],
        [],
        [record],
      ),
    ).rejects.toThrow(ConflictError);
    const after = await stack.composed.auth.listAuditOfObject('Site', site.id, 10);
    expect(after.items.map((r) => r.id)).toEqual(trail.items.map((r) => r.id));
  });

  test('activity is for administrators and the user itself; audit of an object for its readers', async () => {
    const password = `Pw-${uniqueString('act', 40)}`;
    const user = await newUser(password);
    const { token } = (await login(user.email, password)).body;
    expect((await req('GET', `${corePath('User', user.id)}/activity`, { token })).status).toBe(200);
    const admin = (await req('GET', `${corePath('User')}?email=${ADMIN_EMAIL}`)).body.items[0];
    expectError(await req('GET', `${corePath('User', admin.id)}/activity`, { token }), 404, 'not_found');
    expect((await req('GET', `${corePath('User', user.id)}/audit`, { token })).status).toBe(200);
    expectError(await req('GET', `${corePath('User', admin.id)}/audit`, { token }), 404, 'not_found');
  });
});

describe('controller credentials', () => {
  const SECRET = 'S3cret-keystone-password-that-must-never-leak';

  test('write-only: admins PUT them (204), they land in the secrets store, no route returns them', async () => {
    const controller = await createValid('Controller', deps, { credentials_ref: null });
    const put = await req('PUT', `${corePath('Controller', controller.id)}/credentials`, {
      body: { username: 'admin', password: SECRET },
    });
    expect(put.status).toBe(204);
    expect(put.text).toBe('');
    const after = (await req('GET', corePath('Controller', controller.id))).body;
    expect(after.credentials_ref).toBe(`xos/controllers/${controller.id}`);
    expect(await stack.secrets.read(after.credentials_ref)).toEqual({ username: 'admin', password: SECRET });
    expectError(await req('GET', `${corePath('Controller', controller.id)}/credentials`), 405, 'method_not_allowed');
    // Replacing keeps the reference.
    expect(
      (await req('PUT', `${corePath('Controller', controller.id)}/credentials`, { body: { password: `${SECRET}-2` } }))
        .status,
    ).toBe(204);
    expect((await req('GET', corePath('Controller', controller.id))).body.version).toBe(after.version);
    const audit = (await req('GET', `${corePath('Controller', controller.id)}/audit`)).body.items;
    expect(audit[0]).toMatchObject({ action: 'set_credentials', changed_fields: ['password'] });
    // Bad bodies name no value.
    const bad = await req('PUT', `${corePath('Controller', controller.id)}/credentials`, { body: { password: 7 } });
    expectError(bad, 400, 'validation_error', ['password']);
    expectError(
      await req('PUT', `${corePath('Controller', controller.id)}/credentials`, { body: {} }),
      400,
      'validation_error',
    );
  });

  test('a non-admin (even a deployment admin) may not set them', async () => {
    const password = `Pw-${uniqueString('depadm', 40)}`;
    const user = await newUser(password);
    const controller = await createValid('Controller', deps);
    await createValid('Privilege', deps, {
      accessor_id: user.id,
      object_type: 'Deployment',
      object_id: controller.deployment_id,
      permission: 'role:admin',
      granted: null,
      expires: null,
    });
    const { token } = (await login(user.email, password)).body;
    expectError(
      await req('PUT', `${corePath('Controller', controller.id)}/credentials`, { body: { password: SECRET }, token }),
      403,
      'forbidden',
    );
    const other = await createValid('Controller', deps);
    expectError(
      await req('PUT', `${corePath('Controller', other.id)}/credentials`, { body: { password: SECRET }, token }),
      404,
      'not_found',
    );
  });
});

describe('no secret in any log line or response', () => {
  test('a full run (login, refresh, CRUD, errors, credentials, logout) leaks no password, hash, token or secret', async () => {
    const stdout: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      stdout.push(String(chunk));
      return (write as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
    const password = `Pw-${uniqueString('leak', 40)}-Zq9`;
    const secret = `ctrl-secret-${uniqueString('s', 40)}`;
    try {
      const user = await newUser(password);
      await login(user.email, `${password}-wrong`);
      const pair = (await login(user.email, password)).body;
      const refreshed = (
        await req('POST', `${U}/refresh`, { body: { refresh_token: pair.refresh_token }, token: null })
      ).body;
      await req('GET', corePath('User', user.id), { token: refreshed.token });
      await req('PATCH', corePath('User', user.id), {
        body: { password: `${password}-new`, version: user.version },
        token: refreshed.token,
      });
      await req('PATCH', corePath('User', user.id), { body: { is_admin: true, version: 2 }, token: refreshed.token });
      await req('POST', corePath('Slice'), { body: await validBody('Slice', deps), token: refreshed.token });
      await req('POST', corePath('User'), { body: { email: 'bad', password: 'short' } });
      await req('GET', corePath('Site'), { token: pair.token });
      await req('GET', corePath('Site'), { token: `${refreshed.token}x` });
      const controller = await createValid('Controller', deps);
      await req('PUT', `${corePath('Controller', controller.id)}/credentials`, { body: { password: secret } });
      await req('PUT', `${corePath('Controller', controller.id)}/credentials`, { body: { password: 12, secret } });
      await req('GET', corePath('Controller', controller.id));
      await req('GET', `${corePath('Controller', controller.id)}/audit`);
      await req('GET', `${corePath('User', user.id)}/audit`);
      await req('POST', `${U}/logout`, { token: refreshed.token });
      await req('POST', `${U}/login`, { body: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD }, token: null });
    } finally {
      process.stdout.write = write;
    }
    const corpus = [...seen, ...stack.logs, ...stdout].join('\n');
    const forbidden = [password, `${password}-new`, ADMIN_PASSWORD, secret, 'scrypt$', ...issued];
    for (const needle of forbidden) expect(corpus.includes(needle)).toBe(false);
    // Refresh secrets (the part after the session id) never appear either.
    for (const t of issued) {
      const part = t.split('.').pop() as string;
      expect(corpus.includes(part)).toBe(false);
    }
    expect(seen.length).toBeGreaterThan(15);
  });
});
