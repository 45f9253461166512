/**
 * The XOS REST API core: routes derived from the registry, authentication, and the mapping of the
 * object service's results to HTTP. It knows nothing of Lambda or node:http.
 */
import { DUMMY_HASH, verifyPassword } from '../auth/passwords';
import type { TokenService } from '../auth/tokens';
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
import type { StoredObject } from '../store/store';
import { executionName, type WorkflowStarter } from '../sync/contract';
import { errorResponse, type Logger } from './errors';
import { type ApiRequest, type ApiResponse, json } from './http';

/** Largest accepted request body. */
export const MAX_BODY_BYTES = 256 * 1024;

/** Base path of the model API. */
export const CORE_PREFIX = '/xosapi/v1/core/';

/** What the API core needs. */
export interface ApiDependencies {
  readonly objects: ObjectService;
  readonly tokens: TokenService;
  readonly log: Logger;
  /** Looks a user up by login name (username, then email). */
  readonly findUserByLogin: (login: string) => Promise<StoredObject | undefined>;
  /** Starts reconcile executions for resync; without it, the sweeper picks the request up. */
  readonly starter?: WorkflowStarter;
}

/** The API as one function from request to response. Never throws. */
export type Api = (req: ApiRequest) => Promise<ApiResponse>;

/** Build the API. */
export function createApi(deps: ApiDependencies): Api {
  let openapi: string | undefined;
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
      if (path === '/xosapi/v1/utility/login') return await onlyAsync(req, ['POST'], () => login(deps, req));
      if (!path.startsWith(CORE_PREFIX)) throw new NotFoundError(`no route ${path}`);

      const [plural, id, action, extra] = path.slice(CORE_PREFIX.length).split('/');
      const model = modelByPlural(plural ?? '');
      if (!model || extra !== undefined) throw new NotFoundError(`no route ${path}`);
      const caller = authenticate(deps, req);
      if (id === undefined || id === '') return await collection(deps, model, req, caller);
      const objectId = parseId(model, id);
      if (action === 'history') return await onlyAsync(req, ['GET'], () => history(deps, model, objectId, req));
      if (action === 'resync') return await onlyAsync(req, ['POST'], () => resync(deps, model, objectId, caller));
      if (action !== undefined) throw new NotFoundError(`no route ${path}`);
      return await member(deps, model, objectId, req, caller);
    } catch (err) {
      return errorResponse(err, req.requestId, deps.log);
    }
  };
}

async function collection(deps: ApiDependencies, model: Model, req: ApiRequest, caller: Caller): Promise<ApiResponse> {
  switch (req.method) {
    case 'GET': {
      const page = await deps.objects.list(model, Object.assign(Object.create(null), req.query));
      return json(200, { items: page.items.map((o) => toWire(model, o)), next_cursor: page.next_cursor });
    }
    case 'POST': {
      requireAdmin(caller);
      const created = await deps.objects.create(model, parseBody(req), caller);
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
  deps: ApiDependencies,
  model: Model,
  id: string,
  req: ApiRequest,
  caller: Caller,
): Promise<ApiResponse> {
  switch (req.method) {
    case 'GET': {
      const obj = await deps.objects.get(model, id);
      return json(200, toWire(model, obj), { etag: etag(obj) });
    }
    case 'PUT':
    case 'PATCH': {
      requireAdmin(caller);
      const body = parseBody(req);
      const updated = await deps.objects.update(
        model,
        id,
        req.method === 'PUT' ? 'replace' : 'patch',
        body,
        ifMatchVersion(req.headers['if-match']),
        caller,
      );
      return json(200, toWire(model, updated), { etag: etag(updated) });
    }
    case 'DELETE': {
      requireAdmin(caller);
      const deleted = await deps.objects.delete(model, id);
      return json(202, toWire(model, deleted), { etag: etag(deleted) });
    }
    default:
      throw new MethodNotAllowedError(`${req.method} is not allowed on a ${model.kind}; use GET, PUT, PATCH or DELETE`);
  }
}

async function history(deps: ApiDependencies, model: Model, id: string, req: ApiRequest): Promise<ApiResponse> {
  const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
    throw new ValidationError('invalid limit', { limit: 'must be an integer from 1 to 500' });
  }
  const cursor = req.query.cursor;
  if (cursor !== undefined && !/^HIST#[0-9TZ:.-]+#[0-9a-f]{8}$/.test(cursor)) {
    throw new ValidationError('invalid cursor', { cursor: 'not a history cursor' });
  }
  const page = await deps.objects.history(model, id, limit, cursor);
  return json(200, { items: page.items, next_cursor: page.next });
}

async function resync(deps: ApiDependencies, model: Model, id: string, caller: Caller): Promise<ApiResponse> {
  requireAdmin(caller);
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

async function login(deps: ApiDependencies, req: ApiRequest): Promise<ApiResponse> {
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
  const user = await deps.findUserByLogin(body.username as string);
  // Hash even when the user is unknown, so timing does not reveal which logins exist.
  const ok = await verifyPassword(body.password as string, user?.password ?? DUMMY_HASH);
  if (!user || !ok || user.deleted || user.is_active !== true) {
    deps.log.info('login failed', { request_id: req.requestId });
    throw new UnauthorizedError('invalid username or password');
  }
  const issued = deps.tokens.issue({ userId: user.id, email: user.email as string, isAdmin: user.is_admin === true });
  return json(200, { token: issued.token, expires_at: issued.expires_at, user_id: user.id });
}

function authenticate(deps: ApiDependencies, req: ApiRequest): Caller {
  const header = req.headers.authorization;
  if (!header)
    throw new UnauthorizedError(
      'authentication required: send Authorization: Bearer <token> (POST /xosapi/v1/utility/login)',
    );
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new UnauthorizedError('authorization must be a Bearer token');
  return deps.tokens.verify(match[1] as string);
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

function requireAdmin(caller: Caller): void {
  if (!caller.isAdmin) throw new ForbiddenError('only administrators may change objects');
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
