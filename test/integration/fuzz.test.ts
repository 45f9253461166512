/**
 * Property-based robustness of the write API through real HTTP (fast-check): for every kind,
 * random and malformed payloads to create (POST) and to update (PATCH/PUT of an existing object).
 *
 * Properties: never a 5xx; every 4xx has the one error shape; a refused create writes nothing (the
 * kind's live count is unchanged) and a refused update leaves the object's version unchanged,
 * while an accepted one moves it by exactly one.
 */
import fc from 'fast-check';
import type { Model } from '../../shared/model/define';
import type { Field } from '../../shared/model/fields';
import { MODELS } from '../../shared/model/registry';
import {
  type ApiObject,
  absentId,
  type Body,
  corePath,
  createValid,
  expectErrorShape,
  type FixtureDeps,
  uniqueString,
  validBody,
} from '../helpers/fixtures';
import { type HttpResult, startTestStack, type TestStack } from '../helpers/stack';

/** Runs per kind and operation: bounded so the whole file stays around two minutes on 2 cores. */
const RUNS = Number(process.env.XOS_FUZZ_RUNS ?? 25);
/** Stop shrinking a failure after this long: a counterexample is reported either way. */
const TIME_LIMIT_MS = 10_000;

let stack: TestStack;
let deps: FixtureDeps;
beforeAll(async () => {
  stack = await startTestStack();
  deps = { stack };
});
afterAll(async () => stack.close());

/** Values of every JSON type and edge: wrong types, out-of-range numbers, huge and odd strings, nesting. */
function junk(ids: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.anything({ maxDepth: 3 }),
    fc.string(),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)), maxLength: 4 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constantFrom(
      null,
      0,
      -1,
      2 ** 31,
      -(2 ** 31) - 1,
      2 ** 53 + 2,
      1e308,
      -1e308,
      5e-324,
      1e-200,
      '',
      ' ',
      ' padded ',
      '\u0000',
      'NaN',
      'true',
      '2024-13-45T99:99:99Z',
      'http://',
      'javascript:alert(1)',
      '10.0.0.0/33',
      '999.1.1.1',
      'zz:zz:zz:zz:zz:zz',
      'a@',
      '{}',
      [],
      {},
      [null],
    ),
    fc.integer({ min: 150, max: 20_000 }).map((n) => 'x'.repeat(n)),
    fc.integer({ min: 1, max: 6000 }).map((n) => '\u{1F600}'.repeat(n)),
    fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 5 }),
    fc.object({ maxDepth: 4 }),
    fc.constantFrom(absentId(), 'not-an-id', ...ids),
    fc.array(fc.constantFrom(absentId(), ...ids), { maxLength: 3 }),
  );
}

/**
 * Values a field's declaration says are valid (type, limits, format, choices): random, and biased
 * by fast-check towards the edges (longest strings, extreme and tiny floats, deep JSON).
 */
function validValue(field: Field): fc.Arbitrary<unknown> | undefined {
  const max = field.maxLength ?? 200;
  switch (field.type) {
    case 'string': {
      switch (field.format) {
        case 'email':
          return fc.emailAddress().filter((e) => e.length <= max && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e));
        case 'url':
          return fc.webUrl().filter((u) => u.length <= max);
        case 'ip':
          return fc.oneof(fc.ipV4(), fc.ipV6()).filter((u) => u.length <= max);
        case 'cidr':
          return fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, n]) => `${a}/${n}`);
        case 'mac':
          return fc
            .array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 })
            .map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));
        default:
          return fc.oneof(
            fc.string({ maxLength: Math.min(max, 60) }),
            fc.string({ unit: 'binary', maxLength: Math.min(max, 30) }),
            fc.constant('m'.repeat(max)),
          );
      }
    }
    case 'text':
      return fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.constant('t'.repeat(max)),
        fc.constant('\u{1F600}'.repeat(max / 2)),
      );
    case 'password':
      return fc.string({ minLength: 8, maxLength: 64 });
    case 'int':
      return fc.integer({ min: field.min ?? -(2 ** 31), max: field.max ?? 2 ** 31 - 1 });
    case 'float':
      return fc.double({ min: field.min ?? -1e300, max: field.max ?? 1e300, noNaN: true, noDefaultInfinity: true });
    case 'bool':
      return fc.boolean();
    case 'choice':
      return fc.constantFrom(...(field.choices ?? []));
    case 'json':
      return fc.oneof(
        fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 5 }),
        fc.object({ maxDepth: 3 }),
      );
    case 'datetime':
      return fc
        .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString());
    default:
      return undefined; // references: keep the valid ones of the base body
  }
}

/** Wrong or borderline values for a field of a given declaration. */
function wrongValue(field: Field, ids: readonly string[]): fc.Arbitrary<unknown> {
  const max = field.maxLength ?? 200;
  const edges: unknown[] = [
    null,
    '',
    'x'.repeat(max + 1),
    (field.min ?? 0) - 1,
    (field.max ?? 0) + 1,
    1.5,
    '1',
    [],
    {},
  ];
  return fc.oneof(fc.constantFrom(...edges), junk(ids));
}

/** A payload and how it is sent. */
interface Payload {
  readonly raw: string;
  /** Fields whose unique values must not be refreshed (the case mutated them). */
  readonly touched: readonly string[];
}

const asJson = (value: unknown): Payload => ({ raw: JSON.stringify(value) ?? '', touched: [] });

/**
 * Payloads derived from a valid body of the kind: random valid values (to reach the store with
 * edge data), one field wrong for its type, several fields junk, extra and missing fields, broken
 * JSON, oversized bodies; and pure junk.
 */
function payloads(model: Model, base: Body, ids: readonly string[]): fc.Arbitrary<Payload> {
  const names = [
    ...Object.keys(model.allFields),
    'id',
    'kind',
    'version',
    'created',
    'updated',
    'deleted',
    'password',
    '__proto__',
    'constructor',
  ];
  const own = Object.entries(model.fields).filter(([, f]) => !f.feedback) as Array<[string, Field]>;
  const writable = [
    ...own,
    ...Object.entries(model.allFields).filter(([n, f]) => !f.feedback && !(n in model.fields)),
  ] as Array<[string, Field]>;
  const present = Object.keys(base);
  const value = junk(ids);
  const validEntries = writable
    .map(([n, f]) => [n, validValue(f)] as const)
    .filter((e): e is readonly [string, fc.Arbitrary<unknown>] => e[1] !== undefined);
  const randomValid =
    validEntries.length === 0
      ? fc.constant({ raw: JSON.stringify(base), touched: [] as string[] })
      : fc
          .record(Object.fromEntries(validEntries), { requiredKeys: [] })
          .map((d) => ({ raw: JSON.stringify({ ...base, ...d }), touched: Object.keys(d) }));
  const typedOneField = fc.constantFrom(...writable).chain(([n, f]) =>
    fc.oneof(validValue(f) ?? wrongValue(f, ids), wrongValue(f, ids)).map((v) => ({
      raw: JSON.stringify({ ...base, [n]: v }),
      touched: [n],
    })),
  );
  const oneFieldWrong = fc
    .record({ field: fc.constantFrom(...names), value })
    .map(({ field, value: v }) => ({ raw: JSON.stringify({ ...base, [field]: v }), touched: [field] }));
  const severalFieldsWrong = fc
    .dictionary(fc.constantFrom(...names), value, { minKeys: 2, maxKeys: 5 })
    .map((d) => ({ raw: JSON.stringify({ ...base, ...d }), touched: Object.keys(d) }));
  const extraFields = fc
    .dictionary(fc.string({ maxLength: 20 }), value, { minKeys: 1, maxKeys: 4 })
    .map((d) => ({ raw: JSON.stringify({ ...base, ...d }), touched: Object.keys(d) }));
  const fieldsMissing = fc.subarray(present, { minLength: 1 }).map((drop) => {
    const copy = { ...base };
    for (const f of drop) delete copy[f];
    return { raw: JSON.stringify(copy), touched: drop };
  });
  const brokenJson = fc.oneof(
    fc.string(),
    fc.nat({ max: 4000 }).map((n) => JSON.stringify(base).slice(0, n % Math.max(1, JSON.stringify(base).length))),
    fc.constantFrom(
      '{',
      '{"name":',
      'null',
      '[]',
      '"a string"',
      '42',
      'true',
      '{}}',
      '{"a":1,}',
      "{'a':1}",
      '\u0000',
      ' ',
    ),
    fc.constantFrom(
      `${JSON.stringify(base)}garbage`,
      `[${JSON.stringify(base)}]`,
      JSON.stringify(base).replace(/:/g, '='),
    ),
  );
  const huge = fc.constantFrom(...present).map((field) => ({
    raw: JSON.stringify({ ...base, [field]: 'y'.repeat(300_000) }),
    touched: [field],
  }));
  return fc.oneof(
    { weight: 5, arbitrary: randomValid },
    { weight: 5, arbitrary: typedOneField },
    { weight: 2, arbitrary: oneFieldWrong },
    { weight: 1, arbitrary: severalFieldsWrong },
    { weight: 1, arbitrary: extraFields },
    { weight: 1, arbitrary: fieldsMissing },
    { weight: 2, arbitrary: brokenJson.map((raw) => ({ raw, touched: [] as string[] })) },
    { weight: 1, arbitrary: fc.anything().map(asJson) },
    { weight: 1, arbitrary: fc.jsonValue().map(asJson) },
    { weight: 1, arbitrary: fc.object().map(asJson) },
    { weight: 1, arbitrary: huge },
  );
}

/** Give single-field unique values fresh values (unless the case is about them), so valid cases reach deeper. */
function freshen(model: Model, payload: Payload): string {
  if (!payload.raw.startsWith('{')) return payload.raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload.raw);
  } catch {
    return payload.raw;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return payload.raw;
  const body = parsed as Body;
  for (const u of model.uniques) {
    const f = u.fields[0] as string;
    if (u.fields.length !== 1 || payload.touched.includes(f) || typeof body[f] !== 'string') continue;
    const field = model.allFields[f];
    body[f] =
      field?.format === 'email'
        ? `fz-${uniqueString('e', 40)}@example.com`
        : uniqueString('fz', field?.maxLength ?? 60);
  }
  return JSON.stringify(body);
}

/** The refs an existing object holds: real ids (of possibly the wrong kind) make good junk. */
function idsOf(obj: ApiObject): string[] {
  return Object.entries(obj)
    .filter(([k, v]) => typeof v === 'string' && (k === 'id' || k.endsWith('_id')))
    .map(([, v]) => v as string);
}

async function liveCount(model: Model): Promise<number> {
  let n = 0;
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ limit: '1000' });
    if (cursor) q.set('cursor', cursor);
    const res = await stack.request('GET', `${corePath(model)}?${q}`);
    expect(res.status).toBe(200);
    n += res.body.items.length;
    cursor = res.body.next_cursor;
  } while (cursor);
  return n;
}

function expectSafe(res: HttpResult, label: string): void {
  if (res.status >= 500) throw new Error(`${label}: ${res.status} ${res.text}`);
  if (res.status >= 400) expectErrorShape(res);
}

const byKind = MODELS.map((m) => [m.kind, m] as const);

/** Status counts per kind and operation; printed with XOS_FUZZ_STATS=1 to check the payloads reach deep. */
const stats = new Map<string, Record<number, number>>();
function tally(key: string, status: number): void {
  const s = stats.get(key) ?? {};
  s[status] = (s[status] ?? 0) + 1;
  stats.set(key, s);
}
afterAll(() => {
  if (process.env.XOS_FUZZ_STATS) console.log([...stats].map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join('\n'));
});

describe.each(byKind)('%s', (_kind, model) => {
  let base: Body;
  let existing: ApiObject;
  beforeAll(async () => {
    base = await validBody(model, deps);
    existing = await createValid(model, deps);
  });

  test('POST: random and malformed bodies never 5xx; 4xx has the error shape; a refusal writes nothing', async () => {
    let expected = await liveCount(model);
    await fc.assert(
      fc.asyncProperty(payloads(model, base, idsOf(existing)), async (payload) => {
        const res = await stack.request('POST', corePath(model), { body: freshen(model, payload) });
        tally(`${model.kind} POST`, res.status);
        expectSafe(res, `POST ${payload.raw.slice(0, 300)}`);
        if (res.status === 201) expected += 1;
        else expect([400, 403, 409, 413]).toContain(res.status);
        expect(await liveCount(model)).toBe(expected);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  }, 90_000);

  test('PATCH/PUT: random and malformed bodies never 5xx; a refusal leaves the version unchanged', async () => {
    let version = existing.version as number;
    const current = (await stack.request('GET', corePath(model, existing.id))).body as Body;
    // The user-writable part of the stored object: system fields move with every write (updated,
    // version), so a stale copy of them would make every later case a 400.
    const { version: _v, id: _i, kind: _k, created: _c, updated: _u, deleted: _d, ...fullBody } = current;
    const how = fc.record({
      method: fc.constantFrom('PATCH', 'PUT'),
      versioning: fc.constantFrom('body', 'body', 'header', 'none', 'stale', 'junk'),
      junkVersion: junk([]),
    });
    await fc.assert(
      fc.asyncProperty(payloads(model, fullBody, idsOf(existing)), how, async (payload, h) => {
        let raw = payload.raw;
        const headers: Record<string, string> = {};
        if (h.versioning === 'header') headers['if-match'] = `"${version}"`;
        if (raw.startsWith('{') && ['body', 'stale', 'junk'].includes(h.versioning)) {
          try {
            const parsed = JSON.parse(raw);
            if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
              parsed.version =
                h.versioning === 'body' ? version : h.versioning === 'stale' ? version - 1 : h.junkVersion;
              raw = JSON.stringify(parsed);
            }
          } catch {
            // broken JSON stays broken
          }
        }
        const res = await stack.request(h.method, corePath(model, existing.id), { body: raw, headers });
        tally(`${model.kind} ${h.method}`, res.status);
        expectSafe(res, `${h.method} ${raw.slice(0, 300)}`);
        const now = await stack.request('GET', corePath(model, existing.id));
        expect(now.status).toBe(200);
        if (res.status === 200) {
          expect(res.body.version).toBe(version + 1);
          version += 1;
        } else {
          expect([400, 403, 409, 413]).toContain(res.status);
        }
        expect(now.body.version).toBe(version);
        expect(now.body.deleted).toBe(false);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  }, 90_000);
});

describe('whole-request junk', () => {
  test('random paths, methods and query strings under the core prefix never 5xx', async () => {
    const segment = fc.oneof(
      fc.constantFrom(...MODELS.map((m) => m.plural), 'nosuch', '', '..', '%ZZ', '%00', absentId()),
      fc.string({ maxLength: 30 }).map((s) => encodeURIComponent(s)),
    );
    const query = fc.dictionary(
      fc.oneof(
        fc.constantFrom(
          'limit',
          'cursor',
          'deleted',
          'name',
          'name__icontains',
          'id',
          'site_id',
          'version__gt',
          'x__in',
        ),
        fc.string({ maxLength: 12 }),
      ),
      fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('0', '-1', '1001', 'true', absentId())),
      { maxKeys: 3 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
        fc.array(segment, { minLength: 1, maxLength: 3 }),
        query,
        fc.option(fc.jsonValue(), { nil: undefined }),
        async (method, segments, q, body) => {
          const qs = new URLSearchParams(q as Record<string, string>).toString();
          const path = `/xosapi/v1/core/${segments.join('/')}${qs ? `?${qs}` : ''}`;
          const sendBody = body === undefined || method === 'GET' ? undefined : JSON.stringify(body);
          const res = await stack.request(method, path, { body: sendBody });
          expectSafe(res, `${method} ${path}`);
        },
      ),
      { numRuns: 150, interruptAfterTimeLimit: TIME_LIMIT_MS },
    );
  }, 90_000);
});
