/**
 * Authentication and the admin/read-only split through real HTTP (DESIGN section 7): every core
 * route needs a valid bearer token (missing, malformed, forged, tampered and expired tokens are
 * 401 with WWW-Authenticate); login never tells an unknown user from a wrong password and never
 * echoes or logs the password; a user without privileges reads only what everyone may and writes
 * nothing; an inactive user cannot log in.
 */
import { randomBytes } from 'node:crypto';
import { TokenService } from '../../shared/auth/tokens';
import { MODELS } from '../../shared/model/registry';
import {
  type ApiObject,
  absentId,
  corePath,
  createValid,
  expectError,
  type FixtureDeps,
  listAll,
  uniqueString,
  validBody,
} from '../helpers/fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type HttpResult, startTestStack, type TestStack } from '../helpers/stack';

const LOGIN = '/xosapi/v1/utility/login';

let stack: TestStack;
let deps: FixtureDeps;
let adminId: string;
beforeAll(async () => {
  stack = await startTestStack();
  deps = { stack };
  adminId = (await listAll(stack, 'User', { email: ADMIN_EMAIL }))[0]?.id;
});
afterAll(async () => stack.close());

function login(username: string, password: string): Promise<HttpResult> {
  return stack.request('POST', LOGIN, { body: { username, password }, token: null });
}

function expectUnauthorized(res: HttpResult, label: string): void {
  if (res.status !== 401) throw new Error(`${label}: expected 401, got ${res.status} ${res.text}`);
  expectError(res, 401, 'unauthorized');
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
}

/** Every core route: collection GET/POST and member GET/PUT/PATCH/DELETE of every kind. */
const ROUTES = MODELS.flatMap((m) => [
  ['GET', corePath(m)],
  ['POST', corePath(m)],
  ['GET', corePath(m, absentId())],
  ['PUT', corePath(m, absentId())],
  ['PATCH', corePath(m, absentId())],
  ['DELETE', corePath(m, absentId())],
]) as Array<[string, string]>;

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('tokens', () => {
  test('every core route without a token: 401 with WWW-Authenticate', async () => {
    for (const [method, path] of ROUTES) {
      const res = await stack.request(method, path, {
        token: null,
        body: method === 'POST' || method === 'PUT' || method === 'PATCH' ? { version: 1 } : undefined,
      });
      expectUnauthorized(res, `${method} ${path}`);
    }
  });

  /** Tokens that must all be refused; built once the admin id is known. */
  function badTokens(): Array<[string, string | { header: string }]> {
    const forged = new TokenService(randomBytes(32)).issue({
      userId: adminId,
      email: ADMIN_EMAIL,
      isAdmin: true,
    }).token;
    const [head, body, sig] = stack.adminToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    const now = Math.floor(Date.now() / 1000);
    return [
      ['malformed (one part)', 'not-a-token'],
      ['malformed (two parts)', 'abc.def'],
      ['malformed (empty parts)', '..'],
      ['malformed (four parts)', `${stack.adminToken}.extra`],
      ['garbage in three parts', 'a.b.c'],
      ['forged (signed with another secret)', forged],
      ['tampered claims (admin token, other subject)', `${head}.${b64url({ ...claims, sub: absentId() })}.${sig}`],
      ['tampered claims (later expiry)', `${head}.${b64url({ ...claims, exp: now + 86_400 * 365 })}.${sig}`],
      ['alg none', `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ ...claims })}.`],
      ['signature of another token', `${head}.${body}.${forged.split('.')[2]}`],
      [
        'wrong scheme (Basic)',
        { header: `Basic ${Buffer.from(`${ADMIN_EMAIL}:${ADMIN_PASSWORD}`).toString('base64')}` },
      ],
      ['Bearer without a token', { header: 'Bearer ' }],
      ['token without a scheme', { header: stack.adminToken }],
    ];
  }

  test('malformed, forged, tampered tokens and wrong schemes: 401 on every core route', async () => {
    for (const [label, token] of badTokens()) {
      for (const [method, path] of ROUTES) {
        const res =
          typeof token === 'string'
            ? await stack.request(method, path, { token })
            : await stack.request(method, path, { token: null, headers: { authorization: token.header } });
        expectUnauthorized(res, `${label}: ${method} ${path}`);
      }
    }
  });

  test('a forged admin token writes nothing', async () => {
    const forged = new TokenService(randomBytes(32)).issue({
      userId: adminId,
      email: ADMIN_EMAIL,
      isAdmin: true,
    }).token;
    const site = await createValid('Site', deps);
    const before = (await listAll(stack, 'Site')).length;
    const body = await validBody('Site', deps);
    expectUnauthorized(await stack.request('POST', corePath('Site'), { body, token: forged }), 'POST');
    expectUnauthorized(
      await stack.request('PATCH', corePath('Site', site.id), { body: { name: 'x', version: 1 }, token: forged }),
      'PATCH',
    );
    expectUnauthorized(await stack.request('DELETE', corePath('Site', site.id), { token: forged }), 'DELETE');
    expect((await listAll(stack, 'Site')).length).toBe(before);
    expect((await stack.request('GET', corePath('Site', site.id))).body).toEqual(site);
  });

  test('an expired token: 401 (a real expiry, with a 1-second TTL)', async () => {
    const short = await startTestStack({ tokenTtlSeconds: 1 });
    try {
      const fresh = await short.request('POST', LOGIN, {
        body: { username: ADMIN_EMAIL, password: ADMIN_PASSWORD },
        token: null,
      });
      expect(fresh.status).toBe(200);
      const token = fresh.body.token as string;
      expect((await short.request('GET', corePath('Site'), { token })).status).toBe(200);
      const expiresAt = Date.parse(fresh.body.expires_at);
      // The only sleep of the suite: wait out the token's lifetime.
      await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 50));
      const res = await short.request('GET', corePath('Site'), { token });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.body.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/expired/) });
      expect(
        (await short.request('POST', corePath('Site'), { token, body: await validBody('Site', { stack: short }) }))
          .status,
      ).toBe(401);
    } finally {
      await short.close();
    }
  });

  test('health and the OpenAPI document need no token; login needs none', async () => {
    expect((await stack.request('GET', '/healthz', { token: null })).status).toBe(200);
    expect((await stack.request('GET', '/openapi.json', { token: null })).status).toBe(200);
    expect((await login(ADMIN_EMAIL, ADMIN_PASSWORD)).status).toBe(200);
  });
});

describe('login', () => {
  const WRONG = `Wrong-${randomBytes(8).toString('hex')}-password`;

  test('wrong password and unknown user: the same 401, nothing echoed or logged', async () => {
    const wrong = await login(ADMIN_EMAIL, WRONG);
    const unknown = await login(`nobody-${uniqueString('u')}@example.com`, WRONG);
    expectError(wrong, 401, 'unauthorized');
    expectError(unknown, 401, 'unauthorized');
    expect(wrong.body.error.message).toBe(unknown.body.error.message);
    expect(wrong.body.error.fields).toEqual(unknown.body.error.fields);
    for (const res of [wrong, unknown]) {
      expect(res.text).not.toContain(WRONG);
      expect(res.body).not.toHaveProperty('token');
    }
    expect(stack.logs.join('\n')).not.toContain(WRONG);
    expect(stack.logs.join('\n')).not.toContain(ADMIN_PASSWORD);
  });

  test('a successful login answers a token, its expiry and the user id, never the password or hash', async () => {
    const res = await login(ADMIN_EMAIL, ADMIN_PASSWORD);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      token: expect.any(String),
      expires_at: expect.any(String),
      refresh_token: expect.any(String),
      refresh_expires_at: expect.any(String),
      user_id: adminId,
    });
    expect(Date.parse(res.body.expires_at)).toBeGreaterThan(Date.now());
    expect(res.text).not.toContain(ADMIN_PASSWORD);
    expect(res.text).not.toContain('scrypt$');
    expect(stack.logs.join('\n')).not.toContain(ADMIN_PASSWORD);
  });

  test('by username as well as by email', async () => {
    const password = `Pw-${uniqueString('login', 40)}`;
    const user = await createValid('User', deps, { password, username: uniqueString('handle', 40) });
    expect((await login(user.username, password)).status).toBe(200);
    expect((await login(user.email, password)).status).toBe(200);
  });

  test('an inactive user cannot log in (created inactive, or deactivated later)', async () => {
    const password = `Pw-${uniqueString('inactive', 40)}`;
    const inactive = await createValid('User', deps, { password, is_active: false });
    const res = await login(inactive.email, password);
    expectError(res, 401, 'unauthorized');
    expect(res.body.error.message).toBe((await login(inactive.email, WRONG)).body.error.message);

    const user = await createValid('User', deps, { password });
    expect((await login(user.email, password)).status).toBe(200);
    expect(
      (await stack.request('PATCH', corePath('User', user.id), { body: { is_active: false, version: 1 } })).status,
    ).toBe(200);
    expectError(await login(user.email, password), 401, 'unauthorized');
  });

  test('a deleted user cannot log in', async () => {
    const password = `Pw-${uniqueString('deleted', 40)}`;
    const user = await createValid('User', deps, { password });
    expect((await stack.request('DELETE', corePath('User', user.id))).status).toBe(202);
    expectError(await login(user.email, password), 401, 'unauthorized');
  });

  test('bad login requests: 400 naming the field, 405 for other methods', async () => {
    expectError(await stack.request('POST', LOGIN, { body: { password: 'x' }, token: null }), 400, 'validation_error', [
      'username',
    ]);
    expectError(
      await stack.request('POST', LOGIN, { body: { username: ADMIN_EMAIL }, token: null }),
      400,
      'validation_error',
      ['password'],
    );
    expectError(
      await stack.request('POST', LOGIN, { body: { username: 7, password: ['x'] }, token: null }),
      400,
      'validation_error',
      ['username', 'password'],
    );
    expectError(await stack.request('POST', LOGIN, { body: '{not json', token: null }), 400, 'validation_error');
    expectError(await stack.request('POST', LOGIN, { body: '[]', token: null }), 400, 'validation_error');
    expectError(await stack.request('GET', LOGIN, { token: null }), 405, 'method_not_allowed');
  });
});

describe('a non-admin user', () => {
  let token: string;
  let user: ApiObject;
  const password = `Pw-${randomBytes(6).toString('hex')}-reader`;
  beforeAll(async () => {
    user = await createValid('User', deps, { password, is_admin: false });
    const res = await login(user.email, password);
    expect(res.status).toBe(200);
    token = res.body.token;
  });

  // Without any privilege: kinds every user may read are readable and not writable (403); the
  // rest are invisible (404, absent from lists) and not creatable. The full matrix: authz-matrix.test.ts.
  test.each(MODELS.map((m) => [m.kind, m] as const))(
    '%s: reads what everyone may, writes nothing',
    async (_kind, model) => {
      const obj = await createValid(model, deps);
      const everyone = model.policy.read.some((g) => 'anyone' in g);
      const list = await stack.request('GET', corePath(model), { token });
      expect(list.status).toBe(200);
      expect(list.text).not.toMatch(/"password"/);
      expect(list.body.items.some((o: ApiObject) => o.id === obj.id)).toBe(everyone);
      const one = await stack.request('GET', corePath(model, obj.id), { token });
      if (everyone) expect(one.body).toEqual(obj);
      else expectError(one, 404, 'not_found');
      const denied = everyone ? [403, 'forbidden'] : [404, 'not_found'];

      const before = (await listAll(stack, model)).length;
      const body = await validBody(model, deps);
      const post = await stack.request('POST', corePath(model), { body, token });
      expect([400, 403]).toContain(post.status);
      expect((await listAll(stack, model)).length).toBe(before);

      expectError(
        await stack.request('PATCH', corePath(model, obj.id), { body: { no_sync: true, version: 1 }, token }),
        denied[0] as number,
        denied[1] as string,
      );
      expectError(
        await stack.request('PUT', corePath(model, obj.id), { body: obj, token }),
        denied[0] as number,
        denied[1] as string,
      );
      expectError(
        await stack.request('DELETE', corePath(model, obj.id), { token }),
        denied[0] as number,
        denied[1] as string,
      );
      expect((await stack.request('GET', corePath(model, obj.id))).body).toEqual(obj);
    },
  );

  test('cannot make itself an administrator', async () => {
    const res = await stack.request('PATCH', corePath('User', user.id), {
      body: { is_admin: true, version: user.version },
      token,
    });
    expectError(res, 403, 'forbidden');
    expect((await stack.request('GET', corePath('User', user.id))).body.is_admin).toBe(false);
  });
});
