/**
 * Fixtures derived from the model registry (in the spirit of cord-tester's generated xosapitests):
 * `validBody` builds a valid create body for ANY kind from its field metadata (type, required,
 * format, choices, target, limits), first creating the objects its required references need,
 * recursively, through the real API. Only where a cross-object validator demands more than the
 * field metadata says is there a per-kind override (a short table, below).
 *
 * Also here: the small HTTP helpers every integration test shares (paths, paging through a list,
 * the one error shape).
 */
import { randomBytes } from 'node:crypto';
import type { Model } from '../../shared/model/define';
import type { Field } from '../../shared/model/fields';
import { requireModel } from '../../shared/model/registry';
import type { HttpResult, TestStack } from './stack';

/** A JSON request body. */
export type Body = Record<string, unknown>;
/** A JSON object as the API returns it. */
// biome-ignore lint/suspicious/noExplicitAny: API objects are inspected dynamically in tests
export type ApiObject = Record<string, any>;

/** What a fixture needs to create dependencies: a stack, and the token to create them with. */
export interface FixtureDeps {
  readonly stack: TestStack;
  /** Token used for the creates (the stack's admin when absent). */
  readonly token?: string;
}

/** What to put in a body besides the required fields. */
export interface BodyOptions {
  /**
   * Also fill optional scalar fields that have no default (strings with their formats, numbers,
   * JSON, date-times, choices), so formats and limits are exercised. Default true. Optional
   * references are left null (overrides may set some).
   */
  readonly optional?: boolean;
  /**
   * Fields given by the caller: used as they are, and their dependencies are not created. Other
   * fields are still generated.
   */
  readonly preset?: Body;
}

/** The base path of a kind's collection, or of one of its objects. */
export function corePath(model: Model | string, id?: string): string {
  const m = typeof model === 'string' ? requireModel(model) : model;
  return id === undefined ? `/xosapi/v1/core/${m.plural}` : `/xosapi/v1/core/${m.plural}/${encodeURIComponent(id)}`;
}

// A run tag keeps values unique even if two runs ever shared a table; the counter within a run.
const RUN = randomBytes(3).toString('hex');
let counter = 0;

/** A fresh sequence number (unique within this test process). */
export function nextSeq(): number {
  counter += 1;
  return counter;
}

/** A string unique within the run, at most `max` characters, no whitespace. */
export function uniqueString(prefix: string, max = 200): string {
  const tail = `${RUN}${nextSeq()}`;
  const value = `${prefix}-${tail}`;
  return value.length <= max ? value : value.slice(value.length - max);
}

/** A valid value of a formatted string field, unique within the run. */
export function formatValue(format: NonNullable<Field['format']>, seq = nextSeq()): string {
  const a = (seq >> 16) & 255;
  const b = (seq >> 8) & 255;
  const c = seq & 255;
  switch (format) {
    case 'email':
      return `user-${RUN}-${seq}@example.com`;
    case 'url':
      return `https://example.com/${RUN}/${seq}`;
    case 'ip':
      return `10.${a}.${b}.${c}`;
    case 'cidr':
      return `10.${b}.${c}.0/24`;
    case 'mac':
      return `02:00:00:${a.toString(16).padStart(2, '0')}:${b.toString(16).padStart(2, '0')}:${c.toString(16).padStart(2, '0')}`;
  }
}

/** A valid scalar value for a field (not a reference), unique where it is a string. */
export function scalarValue(name: string, field: Field): unknown {
  switch (field.type) {
    case 'string': {
      if (field.format) return formatValue(field.format);
      return uniqueString(name.slice(0, 6), field.maxLength ?? 200);
    }
    case 'text':
      return uniqueString(`${name.slice(0, 6)}-text`, field.maxLength ?? 16_384);
    case 'password':
      return `Pw-${uniqueString('secret', 60)}`;
    case 'int':
    case 'float': {
      const min = field.min ?? -1e6;
      const max = field.max ?? 1e6;
      const wanted = field.type === 'int' ? 7 : 12.5;
      return Math.min(max, Math.max(min, wanted));
    }
    case 'bool':
      return !(field.default ?? false);
    case 'choice':
      return field.choices?.[0];
    case 'json':
      return { fixture: nextSeq(), nested: { list: [1, 'two', true, null] } };
    case 'datetime':
      return new Date(Date.UTC(2030, 0, 1) + nextSeq() * 1000).toISOString();
    case 'refs':
      return [];
    default:
      throw new Error(`no scalar value for ${field.type} field ${name}`);
  }
}

/**
 * Per-kind overrides, where a validator needs more than field metadata. Each returns fields that
 * the generic builder then leaves alone.
 */
const OVERRIDES: Record<string, (deps: FixtureDeps, preset: Body) => Promise<Body>> = {
  // instance_isolation: isolation vm needs an image whose image_kind is vm.
  Instance: async (deps, preset) =>
    'image_id' in preset || 'isolation' in preset
      ? {}
      : { isolation: 'vm', image_id: (await createValid('Image', deps, { image_kind: 'vm' })).id },
  // network_slice_validator: the slice must be permitted on the network; its owner slice always is.
  NetworkSlice: async (deps, preset) => {
    if ('network_id' in preset && 'slice_id' in preset) return {};
    if ('network_id' in preset) {
      const res = await deps.stack.request('GET', corePath('Network', String(preset.network_id)), {
        token: deps.token,
      });
      return { slice_id: res.body?.owner_id ?? null };
    }
    const owner = 'slice_id' in preset ? { owner_id: preset.slice_id } : {};
    const network = await createValid('Network', deps, owner);
    return { network_id: network.id, slice_id: network.owner_id };
  },
  // service_instance_link_one_subscriber: exactly one subscriber, so the "no duplicate link" guard is live.
  ServiceInstanceLink: async (deps, preset) =>
    ['subscriber_service_instance_id', 'subscriber_service_id', 'subscriber_network_id'].some((f) => f in preset)
      ? {}
      : { subscriber_service_id: (await createValid('Service', deps)).id },
};

/**
 * A valid create body for `model`. Required references are satisfied by creating their targets
 * (recursively, through the API); generic references get the first kind their type field allows
 * (or its default); unique fields get unique values.
 */
export async function validBody(model: Model | string, deps: FixtureDeps, options: BodyOptions = {}): Promise<Body> {
  const m = typeof model === 'string' ? requireModel(model) : model;
  const fillOptional = options.optional ?? true;
  const preset = options.preset ?? {};
  const body: Body = { ...(await OVERRIDES[m.kind]?.(deps, preset)), ...preset };
  const fields = Object.entries(m.fields) as Array<[string, Field]>;

  // Type fields of generic references first, so the target kind is known.
  for (const [, field] of fields) {
    if (field.type !== 'generic_ref' || !field.required) continue;
    const typeField = field.typeField as string;
    if (body[typeField] === undefined) {
      const declared = m.fields[typeField] as Field;
      body[typeField] = declared.default ?? declared.choices?.[0];
    }
  }

  // Independent targets are created concurrently: deep kinds (Instance, ControllerSlicePrivilege)
  // need a handful of dependencies each.
  const pending: Array<Promise<void>> = [];
  for (const [name, field] of fields) {
    if (name in body || field.feedback) continue;
    if (field.type === 'ref' || field.type === 'generic_ref') {
      if (!field.required) continue;
      const target = field.type === 'ref' ? (field.target as string) : String(body[field.typeField as string]);
      pending.push(
        createValid(target, deps).then((obj) => {
          body[name] = obj.id;
        }),
      );
      continue;
    }
    if (field.type === 'refs' || field.type === 'bool') continue;
    if (field.required || (fillOptional && field.default === undefined)) body[name] = scalarValue(name, field);
  }
  await Promise.all(pending);
  return body;
}

/** Create a valid object of `model` (with `overrides` applied to the body); fails loudly unless 201. */
export async function createValid(model: Model | string, deps: FixtureDeps, overrides: Body = {}): Promise<ApiObject> {
  const m = typeof model === 'string' ? requireModel(model) : model;
  const body = await validBody(m, deps, { preset: overrides });
  const res = await deps.stack.request('POST', corePath(m), { body, token: deps.token });
  if (res.status !== 201) {
    throw new Error(`fixture: creating ${m.kind} failed: ${res.status} ${res.text}\nbody: ${JSON.stringify(body)}`);
  }
  return res.body;
}

/** Every object of a list (following next_cursor), with the given query. */
export async function listAll(
  stack: TestStack,
  model: Model | string,
  query: Record<string, string> = {},
  limit = 1000,
): Promise<ApiObject[]> {
  const out: ApiObject[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 10_000; page++) {
    const params = new URLSearchParams({ ...query, limit: String(limit) });
    if (cursor) params.set('cursor', cursor);
    const res = await stack.request('GET', `${corePath(model)}?${params}`);
    if (res.status !== 200) throw new Error(`list ${corePath(model)}?${params} failed: ${res.status} ${res.text}`);
    out.push(...res.body.items);
    cursor = res.body.next_cursor;
    if (!cursor) return out;
  }
  throw new Error('list did not terminate');
}

/**
 * Assert the one error shape `{error: {code, message, request_id, fields?}}` (DESIGN section 7),
 * with the given status and code, and that the named fields are among `error.fields`.
 */
export function expectError(res: HttpResult, status: number, code: string, fields: readonly string[] = []): void {
  if (res.status !== status) {
    throw new Error(`expected ${status} ${code}, got ${res.status}: ${res.text}`);
  }
  expectErrorShape(res);
  expect(res.body.error.code).toBe(code);
  // The request id in the body is the one the response header carries (for log correlation).
  const header = res.headers.get('x-request-id');
  if (header) expect(res.body.error.request_id).toBe(header);
  for (const f of fields) expect(Object.keys(res.body.error.fields ?? {})).toContain(f);
}

/** Assert a 4xx/5xx body has the one error shape, and no stack trace. */
export function expectErrorShape(res: HttpResult): void {
  expect(res.body).toEqual({
    error: expect.objectContaining({
      code: expect.any(String),
      message: expect.any(String),
      request_id: expect.any(String),
    }),
  });
  expect(Object.keys(res.body)).toEqual(['error']);
  const allowed = ['code', 'message', 'request_id', 'fields'];
  for (const k of Object.keys(res.body.error)) expect(allowed).toContain(k);
  if (res.body.error.fields !== undefined) {
    expect(typeof res.body.error.fields).toBe('object');
    for (const v of Object.values(res.body.error.fields)) expect(typeof v).toBe('string');
  }
  expect(res.text).not.toMatch(/\n\s+at\s|\.ts:\d+/);
}

/** A well-formed id (ULID alphabet, 26 characters) that names no object. */
export function absentId(): string {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const bytes = randomBytes(26);
  let id = '0';
  for (let i = 1; i < 26; i++) id += alphabet[(bytes[i] as number) % 32];
  return id;
}
