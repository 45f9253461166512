/**
 * The XOS REST API core: routes derived from the registry, authentication, and the mapping of the
 * object service's results to HTTP. It knows nothing of Lambda or node:http.
 */
import { GatewayClaimsMapper } from '../auth/gateway-claims';
import { DUMMY_HASH, verifyPassword } from '../auth/passwords';
import type { Sessions } from '../auth/sessions';
import type { TokenCaller, TokenService } from '../auth/tokens';
import { type AuditStore, AuditTrail, auditRecord } from '../authz/audit';
import { Authorizer, type ReadScope, ScopeTooWide } from '../authz/authorizer';
import { requireAllowed, requireReadable, writeHooks } from '../authz/guard';
import {
  ForbiddenError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
  ValidationError,
} from '../errors';
import { type Caller, type Model, SYSTEM_FIELD_NAMES } from '../model/define';
import { buildOpenApi } from '../model/emit/openapi';
import { OBJECT_ID } from '../model/fields';
import { modelByPlural, requireModel } from '../model/registry';
import { isPlainObject } from '../model/validate';
import type { ObjectService } from '../objects/service';
import type { Secret } from '../secrets/secrets';
import type { StoredObject } from '../store/store';
import { executionName, type WorkflowStarter } from '../sync/contract';
import { errorResponse, type Logger } from './errors';
import { type ApiRequest, type ApiResponse, json } from './http';

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Base path of the model API. */
export const CORE_PREFIX = '/xosapi/v1/core/';

/** Base path of the utility routes (login, refresh, logout). */
export const UTILITY_PREFIX = '/xosapi/v1/utility/';

/** Where controller credentials are written (never read back through the API). */
export interface SecretsWriter {
  write(ref: string, secret: Secret): Promise<void>;
}

/** What the API core needs. */
export interface ApiDependencies {
  readonly objects: ObjectService;
  readonly tokens: TokenService;
  /** Sessions, refresh, logout, lockout, and the per-request re-check of a token's user. */
  readonly sessions: Sessions;
  readonly audit: AuditStore;
  readonly log: Logger;
  /** Looks a user up by login name (username, then email). */
  readonly findUserByLogin: (login: string) => Promise<StoredObject | undefined>;
  /** Starts reconcile executions for resync; without it, the sweeper picks the request up. */
  readonly starter?: WorkflowStarter;
  /** Where `PUT .../controllers/{id}/credentials` stores secrets. */
  readonly secrets: SecretsWriter;
}

/** Per-API state derived from the dependencies. */
interface Context extends ApiDependencies {
  readonly trail: AuditTrail;
  readonly claims: GatewayClaimsMapper;
}

/** The API as one function from request to response. Never throws. */
export type Api = (req: ApiRequest) => Promise<ApiResponse>;

/** Build the API. */
export function createApi(dependencies: ApiDependencies): Api {
  let openapi: string | undefined;
  const deps: Context = {
    ...dependencies,
    trail: new AuditTrail(dependencies.audit, dependencies.log),
    claims: new GatewayClaimsMapper(async (login) => (await dependencies.findUserByLogin(login))?.id),
  };
  return async (req) => {
    try {
      const path = req.path.length > 1 && req.path.endsWith('/') ? req.path.slice(0, -1) : req.path;
      if (path === '/healthz') return only(req, ['GET'], () => json(200, { status: 'ok' }));
      if (path === '/openapi.json') {
        return only(req, ['GET'], () => {
          openapi ??= JSON.stringify(buildOpenApi());
          return { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: openapi };
        });
      }
      if (path === `${UTILITY_PREFIX}login`) return await onlyAsync(req, ['POST'], () => login(deps, req));
      if (path === `${UTILITY_PREFIX}refresh`) return await onlyAsync(req, ['POST'], () => refresh(deps, req));
      if (path === `${UTILITY_PREFIX}logout`) return await onlyAsync(req, ['POST'], () => logout(deps, req));
      if (!path.startsWith(CORE_PREFIX)) throw new NotFoundError(`no route ${path}`);

      const [plural, id, action, extra] = path.slice(CORE_PREFIX.length).split('/');
      const model = modelByPlural(plural ?? '');
      if (!model || extra !== undefined) throw new NotFoundError(`no route ${path}`);
      const caller = await authenticate(deps, req);
      const authz = new Authorizer(caller, deps.objects.store);
      if (id === undefined || id === '') return await collection(deps, model, req, authz);
      const objectId = parseId(model, id);
      switch (action) {
        case undefined:
          return await member(deps, model, objectId, req, authz);
        case 'history':
          return await onlyAsync(req, ['GET'], () => objectLog(deps, model, objectId, req, authz, 'history'));
        case 'resync':
          return await onlyAsync(req, ['POST'], () => resync(deps, model, objectId, authz));
        case 'audit':
          return await onlyAsync(req, ['GET'], () => objectLog(deps, model, objectId, req, authz, 'audit'));
        case 'activity':
          if (model.kind !== 'User') break;
          return await onlyAsync(req, ['GET'], () => activityOfUser(deps, objectId, req, authz));
        case 'credentials':
          if (model.kind !== 'Controller') break;
          return await onlyAsync(req, ['PUT'], () => setCredentials(deps, objectId, req, authz));
      }
      throw new NotFoundError(`no route ${path}`);
    } catch (err) {
      return errorResponse(err, req.requestId, deps.log);
    }
  };
}

async function collection(deps: Context, model: Model, req: ApiRequest, authz: Authorizer): Promise<ApiResponse> {
  switch (req.method) {
    case 'GET': {
      let scope: ReadScope | undefined;
      try {
        scope = await authz.readScope(model);
      } catch (err) {
        // A scope too wide to expand: the list checks items one by one instead (still paged).
        if (!(err instanceof ScopeTooWide)) throw err;
      }
      const page = await deps.objects.list(model, Object.assign(Object.create(null), req.query), {
        scope,
        canRead: (obj) => authz.can('read', model, obj),
      });
      return json(200, { items: page.items.map((o) => toWire(model, o)), next_cursor: page.next_cursor });
    }
    case 'POST': {
      const created = await deps.objects.create(
        model,
        parseBody(req),
        authz.caller,
        writeHooks(authz, model, deps.trail),
      );
      return json(201, toWire(model, created), {
        location: `${CORE_PREFIX}${model.plural}/${created.id}`,
        etag: etag(created),
      });
    }
    default:
      throw new MethodNotAllowedError(`${req.method} is not allowed on ${model.plural}; use GET or POST`);
  }
}

async function member(
  deps: Context,
  model: Model,
  id: string,
  req: ApiRequest,
  authz: Authorizer,
): Promise<ApiResponse> {
  const hooks = writeHooks(authz, model, deps.trail);
  switch (req.method) {
    case 'GET': {
      const obj = await deps.objects.get(model, id);
      await requireReadable(authz, model, obj);
      return json(200, toWire(model, obj), { etag: etag(obj) });
    }
    case 'PUT':
    case 'PATCH': {
      const body = parseBody(req);
      const updated = await deps.objects.update(
        model,
        id,
        req.method === 'PUT' ? 'replace' : 'patch',
        body,
        ifMatchVersion(req.headers['if-match']),
        authz.caller,
        hooks,
      );
      return json(200, toWire(model, updated), { etag: etag(updated) });
    }
    case 'DELETE': {
      const deleted = await deps.objects.delete(model, id, hooks);
      return json(202, toWire(model, deleted), { etag: etag(deleted) });
    }
    default:
      throw new MethodNotAllowedError(`${req.method} is not allowed on a ${model.kind}; use GET, PUT, PATCH or DELETE`);
  }
}

function pageLimit(req: ApiRequest): number {
  const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new ValidationError('invalid limit', { limit: 'must be an integer from 1 to 500' });
  }
  return limit;
}

/** History and audit of an object the caller may read; after purge (no object left), administrators only. */
async function requireReadableOrPurged(deps: Context, model: Model, id: string, authz: Authorizer): Promise<void> {
  const obj = await deps.objects.store.get(model.kind, id);
  if (obj && obj.kind === model.kind) await requireReadable(authz, model, obj);
  else if (!authz.caller.isAdmin) throw new NotFoundError(`${model.kind} ${id} not found`);
}

/** An object's sync history or audit trail, newest first, for those who may read it. */
async function objectLog(
  deps: Context,
  model: Model,
  id: string,
  req: ApiRequest,
  authz: Authorizer,
  log: 'history' | 'audit',
): Promise<ApiResponse> {
  const limit = pageLimit(req);
  const cursor = req.query.cursor;
  const valid = log === 'history' ? /^HIST#[0-9TZ:.-]+#[0-9a-f]{8}$/ : OBJECT_ID;
  if (cursor !== undefined && !valid.test(cursor)) {
    throw new ValidationError('invalid cursor', { cursor: `not a${log === 'audit' ? 'n' : ''} ${log} cursor` });
  }
  await requireReadableOrPurged(deps, model, id, authz);
  if (log === 'audit') return json(200, await deps.audit.listAuditOfObject(model.kind, id, limit, cursor));
  const page = await deps.objects.history(model, id, limit, cursor);
  return json(200, { items: page.items, next_cursor: page.next });
}

function auditCursor(req: ApiRequest): string | undefined {
  const cursor = req.query.cursor;
  if (cursor !== undefined && !OBJECT_ID.test(cursor)) {
    throw new ValidationError('invalid cursor', { cursor: 'not an audit cursor' });
  }
  return cursor;
}

/** The writes a user made: administrators, and the user itself. */
async function activityOfUser(deps: Context, id: string, req: ApiRequest, authz: Authorizer): Promise<ApiResponse> {
  const limit = pageLimit(req);
  const cursor = auditCursor(req);
  if (!authz.caller.isAdmin && authz.caller.userId !== id) throw new NotFoundError(`User ${id} not found`);
  return json(200, await deps.audit.listAuditOfActor(id, limit, cursor));
}

/**
 * Write-only controller credentials: stored by the secrets port under the controller's
 * credentials_ref (set to `xos/controllers/<id>` when empty); never returned by any route.
 */
async function setCredentials(deps: Context, id: string, req: ApiRequest, authz: Authorizer): Promise<ApiResponse> {
  const model = requireModel('Controller');
  const controller = await deps.objects.get(model, id);
  await requireReadable(authz, model, controller);
  if (!authz.caller.isAdmin) throw new ForbiddenError('only administrators may set controller credentials');
  if (controller.deleted) throw new NotFoundError(`Controller ${id} not found`);
  const secret = parseCredentials(parseBody(req));
  let ref = typeof controller.credentials_ref === 'string' ? controller.credentials_ref : undefined;
  let current = controller;
  if (ref === undefined) {
    ref = `xos/controllers/${id}`;
    current = await deps.objects.update(
      model,
      id,
      'patch',
      { credentials_ref: ref },
      controller.version,
      authz.caller,
      writeHooks(authz, model, deps.trail),
    );
  }
  await deps.secrets.write(ref, secret);
  const time = new Date().toISOString();
  await deps.trail.record([
    {
      ...auditRecord(authz.caller, 'set_credentials', current, current, time),
      changed_fields: Object.keys(secret).sort(),
    },
  ]);
  return { status: 204, headers: { 'cache-control': 'no-store', etag: etag(current) }, body: '' };
}

/** A credentials body: a flat JSON object of 1 to 32 string fields (names checked, values never echoed). */
function parseCredentials(body: unknown): Secret {
  if (!isPlainObject(body)) throw new ValidationError('credentials must be a JSON object of strings');
  const entries = Object.entries(body);
  const errors: Record<string, string> = {};
  if (entries.length === 0 || entries.length > 32) errors.credentials = 'give 1 to 32 fields';
  for (const [k, v] of entries) {
    const name = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k) ? k : 'credentials';
    if (name !== k) errors.credentials = 'field names are letters, digits and _ (at most 64)';
    else if (typeof v !== 'string' || v.length === 0 || v.length > 8192)
      errors[k] = 'must be a string of 1 to 8192 characters';
  }
  if (Object.keys(errors).length > 0) throw new ValidationError('invalid credentials', errors);
  return Object.fromEntries(entries) as Secret;
}

async function resync(deps: Context, model: Model, id: string, authz: Authorizer): Promise<ApiResponse> {
  const caller = authz.caller;
  await requireAllowed(authz, 'update', model, await deps.objects.get(model, id));
  const obj = await deps.objects.requestResync(model, id, caller);
  if (deps.starter) {
    await deps.starter.start(executionName(obj, `r${Date.now().toString(36)}`), {
      kind: obj.kind,
      id: obj.id,
      version: obj.version,
      reason: 'resync',
    });
  }
  return json(202, toWire(model, obj), { etag: etag(obj) });
}

async function login(deps: Context, req: ApiRequest): Promise<ApiResponse> {
  const body = parseBody(req);
  if (!isPlainObject(body)) throw new ValidationError('request body must be a JSON object');
  const errors: Record<string, string> = {};
  if (typeof body.username !== 'string' || body.username.length === 0 || body.username.length > 255) {
    errors.username = 'required: a string of 1 to 255 characters';
  }
  if (typeof body.password !== 'string' || body.password.length === 0 || body.password.length > 1024) {
    errors.password = 'required: a string of 1 to 1024 characters';
  }
  if (Object.keys(errors).length > 0) throw new ValidationError('invalid login request', errors);
  const name = body.username as string;
  // Locked logins are refused before the password is even looked at (known users or not alike).
  await deps.sessions.assertNotLocked(name);
  const user = await deps.findUserByLogin(name);
  // Hash even when the user is unknown, so timing does not reveal which logins exist.
  const ok = await verifyPassword(body.password as string, user?.password ?? DUMMY_HASH);
  if (!user || !ok || user.deleted || user.is_active !== true) {
    await deps.sessions.failed(name);
    deps.log.info('login failed', { request_id: req.requestId });
    throw new UnauthorizedError('invalid username or password');
  }
  const pair = await deps.sessions.start(
    {
      id: user.id,
      email: user.email as string,
      is_admin: user.is_admin === true,
      is_active: true,
      deleted: false,
    },
    name,
    await deps.sessions.hasFailures(name),
  );
  deps.log.info('login', { request_id: req.requestId, user_id: user.id });
  return json(200, pair);
}

async function refresh(deps: Context, req: ApiRequest): Promise<ApiResponse> {
  const body = parseBody(req);
  if (!isPlainObject(body) || typeof body.refresh_token !== 'string' || body.refresh_token.length > 256) {
    throw new ValidationError('invalid refresh request', { refresh_token: 'required: the refresh_token of a login' });
  }
  return json(200, await deps.sessions.refresh(body.refresh_token));
}

/** Revoke the caller's session: its access token and refresh token stop working at once. */
async function logout(deps: Context, req: ApiRequest): Promise<ApiResponse> {
  const caller = await authenticate(deps, req);
  if (caller.sessionId === undefined) {
    throw new ValidationError('this token has no session to end (sign out at the identity provider)');
  }
  await deps.sessions.revoke(caller.sessionId);
  deps.log.info('logout', { request_id: req.requestId, user_id: caller.userId });
  return { status: 204, headers: { 'cache-control': 'no-store' }, body: '' };
}

/**
 * The caller of a request: from the gateway's verified JWT claims (AWS) or our own bearer token,
 * then re-checked against the current user and session (one BatchGetItem): a deactivated, deleted
 * or demoted user, or a logged-out session, loses its rights at once.
 */
async function authenticate(deps: Context, req: ApiRequest): Promise<Caller & { sessionId?: string }> {
  let claimed: TokenCaller & { login?: string };
  if (req.jwtClaims) claimed = await deps.claims.caller(req.jwtClaims);
  else {
    const header = req.headers.authorization;
    if (!header)
      throw new UnauthorizedError(
        'authentication required: send Authorization: Bearer <token> (POST /xosapi/v1/utility/login)',
      );
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new UnauthorizedError('authorization must be a Bearer token');
    claimed = deps.tokens.verify(match[1] as string);
  }
  try {
    return { ...(await deps.sessions.check(claimed, claimed.login)), requestId: req.requestId };
  } catch (err) {
    if (claimed.login !== undefined) deps.claims.forget(claimed.login);
    throw err;
  }
}

/** An object id from the path: anything that is not an id names no object (404, no storage call). */
function parseId(model: Model, raw: string): string {
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    id = raw;
  }
  if (!OBJECT_ID.test(id)) throw new NotFoundError(`${model.kind} ${id.slice(0, 64)} not found`);
  return id;
}

function parseBody(req: ApiRequest): unknown {
  const raw = req.body ?? '';
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  if (raw.trim() === '') throw new ValidationError('request body must be a JSON object');
  try {
    return JSON.parse(raw);
  } catch {
    throw new ValidationError('request body is not valid JSON');
  }
}

function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const m = /^(?:W\/)?"?(\d{1,15})"?$/.exec(header.trim());
  if (!m) throw new ValidationError('invalid If-Match', { 'if-match': 'must be the version, e.g. "3"' });
  return Number(m[1]);
}

function etag(obj: StoredObject): string {
  return `"${obj.version}"`;
}

/**
 * The wire form of an object in a stable order (system fields, the kind's fields as declared, then
 * lifecycle fields). Write-only fields never leave the server.
 */
export function toWire(model: Model, obj: StoredObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of SYSTEM_FIELD_NAMES) out[k] = obj[k];
  for (const [k, field] of Object.entries(model.allFields)) {
    if (!field.writeOnly) out[k] = obj[k] ?? null;
  }
  return out;
}

function only(req: ApiRequest, methods: string[], fn: () => ApiResponse): ApiResponse {
  if (!methods.includes(req.method)) throw new MethodNotAllowedError(`use ${methods.join(' or ')}`);
  return fn();
}

async function onlyAsync(req: ApiRequest, methods: string[], fn: () => Promise<ApiResponse>): Promise<ApiResponse> {
  if (!methods.includes(req.method)) throw new MethodNotAllowedError(`use ${methods.join(' or ')}`);
  return fn();
}

/** Find a user by username, then by email (both unique). */
export function userFinder(objects: ObjectService): (login: string) => Promise<StoredObject | undefined> {
  const user = requireModel('User');
  return async (login) => {
    for (const field of ['username', 'email']) {
      const page = await objects.list(user, { [field]: login, limit: '1' });
      if (page.items[0]) return page.items[0];
    }
    return undefined;
  };
}
