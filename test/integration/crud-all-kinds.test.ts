/**
 * The object lifecycle of DESIGN sections 5 and 7, for EVERY kind of the registry, through real
 * HTTP: create, read, list, filter, page, patch, replace, optimistic concurrency, unique
 * constraints, soft delete, and the routing errors. Bodies come from the registry-derived
 * fixtures, so a new kind is covered by adding its model file.
 */
import type { Model } from '../../shared/model/define';
import type { Field } from '../../shared/model/fields';
import { MODELS, requireModel } from '../../shared/model/registry';
import {
  type ApiObject,
  absentId,
  type Body,
  corePath,
  createValid,
  expectError,
  type FixtureDeps,
  listAll,
  uniqueString,
  validBody,
} from '../helpers/fixtures';
import { ADMIN_EMAIL, startTestStack, type TestStack } from '../helpers/stack';

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const SYSTEM = ['id', 'kind', 'created', 'updated', 'version', 'deleted'];
/** Fields a kind computes on create when the body leaves them out (deriveOnCreate). */
const DERIVED: Record<string, readonly string[]> = {
  Slice: ['creator_id'],
  Instance: ['name', 'creator_id'],
  User: ['username'],
  Privilege: ['granted'],
};

let stack: TestStack;
let deps: FixtureDeps;
let adminId: string;
beforeAll(async () => {
  stack = await startTestStack();
  deps = { stack };
  const admins = await stack.request('GET', `${corePath('User')}?email=${encodeURIComponent(ADMIN_EMAIL)}`);
  adminId = admins.body.items[0].id;
});
afterAll(async () => stack.close());

const byKind = MODELS.map((m) => [m.kind, m] as const);

/** A field this kind can change with a plain PATCH (not in a unique constraint, not a reference). */
function patchFor(model: Model): Body {
  const inUnique = new Set(model.uniques.flatMap((u) => u.fields));
  const own = Object.entries(model.fields) as Array<[string, Field]>;
  const candidate =
    own.find(([n, f]) => !f.feedback && !inUnique.has(n) && f.type === 'text') ??
    own.find(([n, f]) => !f.feedback && !inUnique.has(n) && f.type === 'string' && !f.format) ??
    own.find(([n, f]) => !f.feedback && !inUnique.has(n) && f.type === 'int');
  if (!candidate) return { no_policy: true };
  const [name, field] = candidate;
  if (field.type === 'int') return { [name]: Math.min(field.max ?? 100, 3) };
  return { [name]: uniqueString('patched', Math.min(field.maxLength ?? 200, 40)) };
}

/** The required own fields of a create body (what a minimal PUT sends). */
function requiredPart(model: Model, body: Body): Body {
  const out: Body = {};
  for (const [name, field] of Object.entries(model.fields)) if (field.required) out[name] = body[name];
  // Type fields of generic references must travel with them, defaulted or not.
  for (const field of Object.values(model.fields)) {
    if (field.type === 'generic_ref' && field.typeField) out[field.typeField] = body[field.typeField];
  }
  return out;
}

/** What a field must read back as, after a write of `body` in create or replace mode. */
function expectFieldsAfterWrite(model: Model, body: Body, obj: ApiObject, derive: boolean): void {
  for (const [name, field] of Object.entries(model.allFields)) {
    if (field.writeOnly) {
      expect(obj).not.toHaveProperty(name);
    } else if (field.feedback) {
    } else if (name in body) {
      expect([name, obj[name]]).toEqual([name, body[name]]);
    } else if (field.default !== undefined) {
      expect([name, obj[name]]).toEqual([name, field.default]);
    } else if (derive && DERIVED[model.kind]?.includes(name)) {
      expect([name, obj[name]]).not.toEqual([name, null]);
    } else {
      expect([name, obj[name]]).toEqual([name, null]);
    }
  }
}

describe.each(byKind)('%s', (kind, model) => {
  let body: Body;
  let created: Awaited<ReturnType<TestStack['request']>>;

  beforeAll(async () => {
    body = await validBody(model, deps);
    created = await stack.request('POST', corePath(model), { body });
  });

  test('create: 201 with Location, ETag, version 1, defaults, feedback defaults, no password', async () => {
    expect(created.status).toBe(201);
    const obj = created.body;
    expect(obj.id).toMatch(ULID);
    expect(created.headers.get('location')).toBe(corePath(model, obj.id));
    expect(created.headers.get('etag')).toBe('"1"');
    expect(obj).toMatchObject({ kind, version: 1, deleted: false });
    expect(Number.isNaN(Date.parse(obj.created))).toBe(false);
    expect(obj.updated).toBe(obj.created);
    expectFieldsAfterWrite(model, body, obj, true);
    for (const name of model.feedbackFields) {
      const field = model.allFields[name] as Field;
      expect([name, obj[name]]).toEqual([name, field.default ?? null]);
    }
    expect(obj).not.toHaveProperty('password');
    expect(created.text).not.toContain('scrypt$');
    for (const key of Object.keys(obj)) expect([...SYSTEM, ...Object.keys(model.allFields)]).toContain(key);
    for (const name of DERIVED[kind] ?? []) {
      if (name === 'creator_id' && !(name in body)) expect(obj.creator_id).toBe(adminId);
    }
  });

  test('get: 200 with the same object and its ETag', async () => {
    const res = await stack.request('GET', corePath(model, created.body.id));
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.body).toEqual(created.body);
  });

  test('list: contains the object, without write-only fields', async () => {
    const all = await listAll(stack, model);
    const found = all.filter((o) => o.id === created.body.id);
    expect(found).toEqual([created.body]);
    for (const o of all) expect(o).not.toHaveProperty('password');
  });

  test('filter: by each single-field unique value and by a reference, answers exactly the object', async () => {
    const uniques = model.uniques
      .filter((u) => u.fields.length === 1 && typeof body[u.fields[0] as string] === 'string')
      .map((u) => [u.fields[0] as string, `no-such-${uniqueString('v', 40)}`] as const);
    const ref = model.refFields.find((f) => typeof body[f] === 'string');
    const fields: Array<readonly [string, string]> = [...uniques, ...(ref ? [[ref, absentId()] as const] : [])];
    if (fields.length === 0) {
      // Neither: a plain string field (by-kind index plus an in-memory filter).
      const str = Object.entries(model.fields).find(([n, f]) => f.type === 'string' && typeof body[n] === 'string');
      expect(str).toBeDefined();
      fields.push([str?.[0] as string, `no-such-${uniqueString('v', 40)}`]);
    }
    for (const [field, absent] of fields) {
      const res = await stack.request(
        'GET',
        `${corePath(model)}?${new URLSearchParams({ [field]: String(body[field]) })}`,
      );
      expect([field, res.status]).toEqual([field, 200]);
      expect([field, res.body.items.map((o: ApiObject) => o.id)]).toEqual([field, [created.body.id]]);
      expect(res.body.next_cursor).toBeNull();
      // The negative: a value nobody has answers nothing.
      const none = await stack.request('GET', `${corePath(model)}?${new URLSearchParams({ [field]: absent })}`);
      expect([field, none.status, none.body.items]).toEqual([field, 200, []]);
    }
  });

  test('PATCH with the current version: 200, version+1, only the patched field changes', async () => {
    const obj = await createValid(model, deps);
    const patch = patchFor(model);
    const res = await stack.request('PATCH', corePath(model, obj.id), { body: { ...patch, version: 1 } });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"2"');
    expect(res.body).toMatchObject({ ...patch, version: 2, created: obj.created });
    expect(Date.parse(res.body.updated)).toBeGreaterThanOrEqual(Date.parse(obj.updated));
    const { updated: _u, version: _v, ...rest } = res.body;
    const { updated: _u0, version: _v0, ...before } = obj;
    expect(rest).toEqual({ ...before, ...patch });
    const again = await stack.request('GET', corePath(model, obj.id));
    expect(again.body).toEqual(res.body);
  });

  test('PATCH with a stale version: 409 naming version, nothing written', async () => {
    const obj = await createValid(model, deps);
    const patch = patchFor(model);
    expect((await stack.request('PATCH', corePath(model, obj.id), { body: { ...patch, version: 1 } })).status).toBe(
      200,
    );
    const stale = await stack.request('PATCH', corePath(model, obj.id), { body: { no_sync: true, version: 1 } });
    expectError(stale, 409, 'conflict', ['version']);
    const now = await stack.request('GET', corePath(model, obj.id));
    expect(now.body).toMatchObject({ version: 2, no_sync: false });
  });

  test('PUT with the required fields only: full replacement, optional fields back to default or null', async () => {
    const full = await validBody(model, deps);
    const obj = (await stack.request('POST', corePath(model), { body: full })).body;
    const replacement = { ...requiredPart(model, full), ...patchFor(model) };
    const res = await stack.request('PUT', corePath(model, obj.id), { body: { ...replacement, version: 1 } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: obj.id, kind, version: 2, created: obj.created, deleted: false });
    expectFieldsAfterWrite(model, replacement, res.body, false);
    for (const name of model.feedbackFields) expect([name, res.body[name]]).toEqual([name, obj[name]]);
  });

  test('PUT of the GET body round-trips (system and feedback fields equal to the stored ones are accepted)', async () => {
    const obj = await createValid(model, deps);
    const read = await stack.request('GET', corePath(model, obj.id));
    const res = await stack.request('PUT', corePath(model, obj.id), { body: read.body });
    expect(res.status).toBe(200);
    const { updated: _u, version, ...rest } = res.body;
    const { updated: _u0, version: _v0, ...before } = read.body;
    expect(version).toBe(2);
    expect(rest).toEqual(before);
  });

  test('PUT and PATCH without a version: 400 naming version, nothing written', async () => {
    const obj = await createValid(model, deps);
    const patch = patchFor(model);
    expectError(await stack.request('PATCH', corePath(model, obj.id), { body: patch }), 400, 'validation_error', [
      'version',
    ]);
    expectError(
      await stack.request('PUT', corePath(model, obj.id), { body: { ...requiredPart(model, body), ...patch } }),
      400,
      'validation_error',
      ['version'],
    );
    expect((await stack.request('GET', corePath(model, obj.id))).body).toEqual(obj);
  });

  const liveUniques = model.uniques.map((u) => [u.fields.join('+'), u] as const);
  if (liveUniques.length > 0) {
    test.each(liveUniques)('duplicate %s: 409 naming the fields, nothing written', async (_label, unique) => {
      const first = await createValid(model, deps);
      const values = Object.fromEntries(unique.fields.map((f) => [f, first[f]]));
      if (!unique.nullsEqual && Object.values(values).some((v) => v === null)) {
        // SQL semantics: a null component disables the constraint, so the duplicate is allowed.
        return;
      }
      // Generic references come with their type field.
      for (const f of unique.fields) {
        const tf = model.fields[f]?.typeField;
        if (tf) values[tf] = first[tf];
      }
      const before = (await listAll(stack, model)).length;
      const dup = await stack.request('POST', corePath(model), {
        body: { ...(await validBody(model, deps)), ...values },
      });
      expectError(dup, 409, 'conflict', unique.fields);
      expect((await listAll(stack, model)).length).toBe(before);
      // Changing another object onto the taken value is refused the same way.
      const other = await createValid(model, deps);
      const moved = await stack.request('PATCH', corePath(model, other.id), { body: { ...values, version: 1 } });
      expectError(moved, 409, 'conflict', unique.fields);
      expect((await stack.request('GET', corePath(model, other.id))).body.version).toBe(1);
    });
  }

  describe('soft delete', () => {
    let obj: ApiObject;
    let deleted: Awaited<ReturnType<TestStack['request']>>;
    beforeAll(async () => {
      obj = await createValid(model, deps);
      deleted = await stack.request('DELETE', corePath(model, obj.id));
    });

    test('DELETE: 202 with deleted true and version+1', () => {
      expect(deleted.status).toBe(202);
      expect(deleted.body).toMatchObject({ id: obj.id, deleted: true, version: 2 });
      expect(deleted.headers.get('etag')).toBe('"2"');
    });

    test('GET after delete: 200, still readable, deleted true', async () => {
      const res = await stack.request('GET', corePath(model, obj.id));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: obj.id, deleted: true, version: 2 });
    });

    test('list excludes it, ?deleted=true shows it', async () => {
      expect((await listAll(stack, model)).map((o) => o.id)).not.toContain(obj.id);
      const gone = await listAll(stack, model, { deleted: 'true' });
      expect(gone.map((o) => o.id)).toContain(obj.id);
      for (const o of gone) expect(o.deleted).toBe(true);
    });

    test('PATCH and PUT on a deleted object: 409, nothing written', async () => {
      expectError(
        await stack.request('PATCH', corePath(model, obj.id), { body: { ...patchFor(model), version: 2 } }),
        409,
        'conflict',
      );
      const read = await stack.request('GET', corePath(model, obj.id));
      expectError(await stack.request('PUT', corePath(model, obj.id), { body: read.body }), 409, 'conflict');
      expect((await stack.request('GET', corePath(model, obj.id))).body.version).toBe(2);
    });

    test('DELETE again: 202, idempotent (no new version)', async () => {
      const again = await stack.request('DELETE', corePath(model, obj.id));
      expect(again.status).toBe(202);
      expect(again.body).toMatchObject({ id: obj.id, deleted: true, version: 2 });
    });
  });

  test('unknown id: 404 for GET, PUT, PATCH, DELETE', async () => {
    const id = absentId();
    expectError(await stack.request('GET', corePath(model, id)), 404, 'not_found');
    expectError(await stack.request('PATCH', corePath(model, id), { body: { version: 1 } }), 404, 'not_found');
    expectError(
      await stack.request('PUT', corePath(model, id), { body: { ...requiredPart(model, body), version: 1 } }),
      404,
      'not_found',
    );
    expectError(await stack.request('DELETE', corePath(model, id)), 404, 'not_found');
  });

  test('an id of another kind: 404', async () => {
    const other = kind === 'Site' ? requireModel('Deployment') : requireModel('Site');
    const foreign = await createValid(other, deps);
    expectError(await stack.request('GET', corePath(model, foreign.id)), 404, 'not_found');
    expectError(await stack.request('DELETE', corePath(model, foreign.id)), 404, 'not_found');
    expect((await stack.request('GET', corePath(other, foreign.id))).body.deleted).toBe(false);
  });

  test('wrong method: 405', async () => {
    expectError(await stack.request('DELETE', corePath(model)), 405, 'method_not_allowed');
    expectError(await stack.request('PUT', corePath(model), { body: body }), 405, 'method_not_allowed');
    expectError(await stack.request('PATCH', corePath(model), { body: { version: 1 } }), 405, 'method_not_allowed');
    expectError(await stack.request('POST', corePath(model, created.body.id), { body }), 405, 'method_not_allowed');
  });
});

describe('paging', () => {
  // One-shard and sharded kinds: the by-kind index merges shards in id order.
  test.each(['Site', 'Flavor', 'ControllerNetwork', 'Instance', 'Port'])(
    '%s: limit=2 pages through everything once, in id order, no duplicates and no gaps',
    async (kind) => {
      const mine = [];
      for (let i = 0; i < 3; i++) mine.push(await createValid(kind, deps));
      const full = await listAll(stack, kind);
      const pages: ApiObject[][] = [];
      let cursor: string | null = null;
      do {
        const params = new URLSearchParams({ limit: '2' });
        if (cursor) params.set('cursor', cursor);
        const res = await stack.request('GET', `${corePath(kind)}?${params}`);
        expect(res.status).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        pages.push(res.body.items);
        cursor = res.body.next_cursor;
      } while (cursor && pages.length < 1000);
      const ids = pages.flat().map((o) => o.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual([...ids].sort());
      expect(ids).toEqual(full.map((o) => o.id));
      for (const m of mine) expect(ids).toContain(m.id);
      // Every page but the last is full.
      for (const p of pages.slice(0, -1)) expect(p.length).toBe(2);
    },
  );

  test('paging a filtered list (slices of one site, limit=1)', async () => {
    const site = await createValid('Site', deps);
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(await createValid('Slice', deps, { site_id: site.id }));
    const seen = await listAll(stack, 'Slice', { site_id: site.id }, 1);
    expect(seen.map((o) => o.id)).toEqual(mine.map((o) => o.id));
  });
});

describe('routing', () => {
  test('unknown plural: 404, with or without a token', async () => {
    expectError(await stack.request('GET', '/xosapi/v1/core/nosuchthings'), 404, 'not_found');
    expectError(await stack.request('GET', '/xosapi/v1/core/nosuchthings', { token: null }), 404, 'not_found');
    expectError(await stack.request('POST', '/xosapi/v1/core/Sites', { body: {} }), 404, 'not_found');
    expectError(await stack.request('GET', '/xosapi/v1/nosuch'), 404, 'not_found');
  });

  test('an extra path segment: 404', async () => {
    const site = await createValid('Site', deps);
    expectError(await stack.request('GET', `${corePath('Site', site.id)}/nosuch`), 404, 'not_found');
  });

  test('a trailing slash names the same resource', async () => {
    const site = await createValid('Site', deps);
    const res = await stack.request('GET', `${corePath('Site', site.id)}/`);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(site.id);
  });

  // Regression (found by this suite, fixed): shared/api/app.ts decodes the id with decodeURIComponent outside any guard (URIError -> 500),
  // and passes ids of any length to DynamoDB (key over 2048 bytes -> ValidationException -> 500).
  test.each([
    ['a malformed percent-encoding', '%ZZ'],
    ['an over-long id', 'A'.repeat(3000)],
    ['a non-ULID id', 'not-an-id'],
  ])('%s as an id: 404, never 500', async (_label, id) => {
    for (const method of ['GET', 'DELETE']) {
      const res = await stack.request(method, `/xosapi/v1/core/sites/${id}`);
      expectError(res, 404, 'not_found');
    }
  });
});
