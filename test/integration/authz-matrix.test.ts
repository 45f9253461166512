/**
 * The authorization matrix, generated from the registry: for every kind x role x verb (list, read,
 * create, update, delete) the expected allow/deny is derived from the kind's declared policy by a
 * small interpreter written here (independent of shared/authz), and checked through real HTTP.
 *
 * The world: site A, slice A (at site A), service A and deployment A, and one object of every kind
 * "in world A" (its references point at world A's objects). Each role's user lives at site B and
 * holds one privilege on world A (site admin/pi/tech/user on site A, slice admin/access on slice A,
 * service admin on service A, deployment admin on deployment A), or none, or is a cloud admin.
 * Read, list and update act on the world object; create posts a new world-A object; delete acts on
 * a fresh world-A object (so a role on the world object itself does not carry over to it).
 *
 * Then the original's escalation holes, tried explicitly.
 */
import type { Grant, Model, RoleName, Verb } from '../../shared/model/define';
import type { Field } from '../../shared/model/fields';
import { MODELS, requireModel } from '../../shared/model/registry';
import {
  type ApiObject,
  type Body,
  corePath,
  createValid,
  expectError,
  type FixtureDeps,
  validBody,
} from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

interface RoleDef {
  readonly name: string;
  readonly admin?: boolean;
  /** The privilege held on world A: the kind it is on and the role. */
  readonly on?: { kind: 'Site' | 'Slice' | 'Service' | 'Deployment'; role: RoleName };
}

const ROLES: readonly RoleDef[] = [
  { name: 'cloud admin', admin: true },
  { name: 'site admin', on: { kind: 'Site', role: 'admin' } },
  { name: 'site pi', on: { kind: 'Site', role: 'pi' } },
  { name: 'site tech', on: { kind: 'Site', role: 'tech' } },
  { name: 'site user', on: { kind: 'Site', role: 'user' } },
  { name: 'slice admin', on: { kind: 'Slice', role: 'admin' } },
  { name: 'slice access', on: { kind: 'Slice', role: 'access' } },
  { name: 'service admin', on: { kind: 'Service', role: 'admin' } },
  { name: 'deployment admin', on: { kind: 'Deployment', role: 'admin' } },
  { name: 'no privilege' },
];

type MatrixVerb = 'list' | 'read' | 'create' | 'update' | 'delete';
const VERBS: readonly MatrixVerb[] = ['list', 'read', 'create', 'update', 'delete'];

/** The kind a grant's field leads to, for a world object of `model`. */
function fieldTarget(model: Model, field: string, obj: ApiObject): string {
  if (field === 'id') return model.kind;
  const f = model.fields[field] as Field;
  return f.type === 'generic_ref' ? String(obj[f.typeField as string]) : (f.target as string);
}

/**
 * Expected: does `role` get `verb` on `obj` (an object of `model`, or a create body)? Roles are held
 * on world A's site, slice, service and deployment; `via` follows the reference to the world object.
 */
function expected(role: RoleDef, model: Model, verb: Verb, obj: ApiObject): boolean {
  if (role.admin) return true;
  return model.policy[verb].some((g: Grant) => {
    if ('anyone' in g) return true;
    if ('self' in g) return obj[g.self] !== undefined && obj[g.self] === users.get(role.name)?.id;
    if ('role' in g) {
      const target = g.on === 'id' ? obj.id : obj[g.on];
      const held = role.on ? world.get(role.on.kind) : undefined;
      return (
        role.on !== undefined &&
        role.on.kind === fieldTarget(model, g.on, obj) &&
        held?.id === target &&
        g.role.includes(role.on.role)
      );
    }
    const parent = byId.get(String(obj[g.via]));
    if (!parent) return false;
    return expected(role, requireModel(parent.kind), g.as ?? (verb === 'read' ? 'read' : 'update'), parent);
  });
}

/** A create must not reference what the caller cannot read (unknown targets: readable only if anyone may). */
function refsVisible(role: RoleDef, model: Model, body: ApiObject): boolean {
  return Object.entries(model.fields).every(([name, f]) => {
    if ((f.type !== 'ref' && f.type !== 'generic_ref') || typeof body[name] !== 'string') return true;
    const target = byId.get(body[name]);
    const kind = target?.kind ?? fieldTarget(model, name, body);
    const targetModel = requireModel(kind);
    return target
      ? expected(role, targetModel, 'read', target)
      : role.admin === true || targetModel.policy.read.some((g) => 'anyone' in g);
  });
}

let stack: TestStack;
let deps: FixtureDeps;
const world = new Map<string, ApiObject>();
const tokens = new Map<string, string>();
const users = new Map<string, ApiObject>();
/** Every world object by id (references are followed through it). */
const byId = new Map<string, ApiObject>();

/**
 * Presets pointing a new object's references at world A. The world object itself gets every
 * required reference there; a fresh one (create, delete) only the references its policy follows,
 * so that unique constraints over references do not collide with the world object.
 */
async function worldPreset(model: Model, fresh = false): Promise<Body> {
  const preset: Body = {};
  const policyFields = new Set(
    (['read', 'create', 'update', 'delete'] as Verb[]).flatMap((v) =>
      model.policy[v].flatMap((g) => ('via' in g ? [g.via] : 'role' in g ? [g.on] : [])),
    ),
  );
  for (const [name, f] of Object.entries(model.fields) as Array<[string, Field]>) {
    if (fresh && !policyFields.has(name)) continue;
    if (f.type === 'generic_ref') {
      const typeField = f.typeField as string;
      const declared = model.fields[typeField] as Field;
      const kind = String(declared.default ?? declared.choices?.[0]);
      preset[typeField] = kind;
      preset[name] = (await worldObject(requireModel(kind))).id;
    } else if (f.type === 'ref' && f.target !== model.kind && (f.required || policyFields.has(name))) {
      preset[name] = (await worldObject(requireModel(f.target as string))).id;
    }
  }
  if (model.kind === 'Image') preset.image_kind = 'vm';
  // A service cannot be a tenant of itself: the subscriber is another service.
  if (model.kind === 'ServiceDependency') preset.subscriber_service_id = (await createValid('Service', deps)).id;
  if (model.kind === 'ControllerSlicePrivilege') {
    preset.slice_privilege_id = (await slicePrivilege()).id;
  }
  if (fresh && (model.kind === 'Port' || model.kind === 'NetworkSlice')) {
    preset.network_id = known(await createValid('Network', deps, { owner_id: world.get('Slice')?.id })).id;
  }
  if (fresh && model.kind === 'Privilege') {
    preset.accessor_id = known(await createValid('User', deps, { site_id: world.get('Site')?.id })).id;
    preset.granted = null;
    preset.expires = null;
  }
  return preset;
}

const pending = new Map<string, Promise<ApiObject>>();
/** The world-A object of a kind (created once). */
function worldObject(model: Model): Promise<ApiObject> {
  let p = pending.get(model.kind);
  if (!p) {
    p = (async () => createValid(model, deps, await worldPreset(model)))();
    pending.set(model.kind, p);
    p.then(
      (o) => {
        world.set(model.kind, o);
        byId.set(o.id, o);
      },
      () => undefined, // the failure surfaces where the promise is awaited
    );
  }
  return p;
}

/** Remember an object the interpreter may meet through a reference. */
function known(obj: ApiObject): ApiObject {
  byId.set(obj.id, obj);
  return obj;
}

let slicePriv: Promise<ApiObject> | undefined;
function slicePrivilege(): Promise<ApiObject> {
  slicePriv ??= (async () => {
    const p = await createValid('Privilege', deps, {
      accessor_id: (await worldObject(requireModel('User'))).id,
      object_type: 'Slice',
      object_id: (await worldObject(requireModel('Slice'))).id,
      permission: 'role:access',
      granted: null,
      expires: null,
    });
    byId.set(p.id, p);
    return p;
  })();
  return slicePriv;
}

async function login(email: string, password: string): Promise<string> {
  const res = await stack.request('POST', '/xosapi/v1/utility/login', {
    body: { username: email, password },
    token: null,
  });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${res.text}`);
  return res.body.token;
}

beforeAll(async () => {
  stack = await startTestStack();
  deps = { stack };
  for (const m of MODELS) await worldObject(m);
  const siteB = await createValid('Site', deps);
  await Promise.all(
    ROLES.map(async (role) => {
      if (role.admin) {
        tokens.set(role.name, stack.adminToken);
        return;
      }
      const password = `Pw-${role.name.replace(/\s/g, '-')}-matrix`;
      const user = await createValid('User', deps, { site_id: siteB.id, password, is_admin: false, is_staff: false });
      users.set(role.name, user);
      if (role.on) {
        await createValid('Privilege', deps, {
          accessor_id: user.id,
          object_type: role.on.kind,
          object_id: (world.get(role.on.kind) as ApiObject).id,
          permission: `role:${role.on.role}`,
          granted: null,
          expires: null,
        });
      }
      tokens.set(role.name, await login(user.email, password));
    }),
  );
}, 600_000);
afterAll(async () => stack.close());

/** What HTTP said: allowed, denied, or something else (a bug either way). */
function outcome(verb: MatrixVerb, status: number, text: string): 'allow' | 'deny' | string {
  const ok = { list: 200, read: 200, create: 201, update: 200, delete: 202 }[verb];
  if (status === ok) return 'allow';
  if (status === 403 || status === 404) return 'deny';
  // A reference to an object the caller cannot see looks absent.
  if (status === 400 && verb === 'create' && text.includes('references must point at live objects')) return 'deny';
  return `${status} ${text.slice(0, 200)}`;
}

async function check(role: RoleDef, model: Model, verb: MatrixVerb): Promise<string | undefined> {
  const token = tokens.get(role.name) as string;
  const obj = world.get(model.kind) as ApiObject;
  let subject: ApiObject = obj;
  let got: string;
  switch (verb) {
    case 'list': {
      const res = await stack.request('GET', `${corePath(model)}?limit=1000`, { token });
      got =
        res.status !== 200
          ? outcome(verb, res.status, res.text)
          : res.body.items.some((o: ApiObject) => o.id === obj.id)
            ? 'allow'
            : 'deny';
      break;
    }
    case 'read': {
      const res = await stack.request('GET', corePath(model, obj.id), { token });
      got = outcome(verb, res.status, res.text);
      break;
    }
    case 'create': {
      const body = await validBody(model, deps, { preset: await worldPreset(model, true) });
      subject = body;
      const res = await stack.request('POST', corePath(model), { body, token });
      got = outcome(verb, res.status, res.text);
      break;
    }
    case 'update': {
      const current = await stack.request('GET', corePath(model, obj.id));
      const res = await stack.request('PATCH', corePath(model, obj.id), {
        body: { no_policy: !current.body.no_policy, version: current.body.version },
        token,
      });
      got = outcome(verb, res.status, res.text);
      break;
    }
    case 'delete': {
      const fresh = await createValid(model, deps, await worldPreset(model, true));
      subject = fresh;
      const res = await stack.request('DELETE', corePath(model, fresh.id), { token });
      got = outcome(verb, res.status, res.text);
      break;
    }
  }
  const want =
    expected(role, model, verb === 'list' ? 'read' : verb, subject) &&
    (verb !== 'create' || refsVisible(role, model, subject))
      ? 'allow'
      : 'deny';
  if (want === 'allow') allowedCells++;
  return got === want ? undefined : `${model.kind} / ${role.name} / ${verb}: expected ${want}, got ${got}`;
}

let allowedCells = 0;

describe('the authorization matrix (kind x role x verb, from the registry)', () => {
  const cells = MODELS.length * ROLES.length * VERBS.length;

  test(`${MODELS.length} kinds x ${ROLES.length} roles x ${VERBS.length} verbs = ${cells} cells, each as the policy says`, async () => {
    const mismatches: string[] = [];
    let checked = 0;
    const record = (problem: string | undefined) => {
      checked++;
      if (problem) mismatches.push(problem);
    };
    // Kinds a few at a time; within a kind every role at once, except updates (they share the object's version).
    for (let i = 0; i < MODELS.length; i += 6) {
      await Promise.all(
        MODELS.slice(i, i + 6).map(async (model) => {
          const parallel = ROLES.flatMap((role) =>
            VERBS.filter((v) => v !== 'update').map((verb) => check(role, model, verb).then(record)),
          );
          await Promise.all(parallel);
          for (const role of ROLES) record(await check(role, model, 'update'));
        }),
      );
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBe(cells);
    // Not a degenerate matrix: both outcomes occur for non-admins.
    expect(allowedCells).toBeGreaterThan(MODELS.length * VERBS.length);
    expect(allowedCells).toBeLessThan(cells);
    process.stdout.write(
      `authorization matrix: ${checked} cells, ${allowedCells} allowed, ${checked - allowedCells} denied\n`,
    );
  }, 900_000);
});

describe("the original's escalation holes", () => {
  test('self-admin: a user cannot make itself admin or staff, nor name another creator', async () => {
    const user = users.get('site admin') as ApiObject;
    const token = tokens.get('site admin') as string;
    const current = (await stack.request('GET', corePath('User', user.id))).body;
    for (const field of ['is_admin', 'is_staff']) {
      const res = await stack.request('PATCH', corePath('User', user.id), {
        body: { [field]: true, version: current.version },
        token,
      });
      expectError(res, 403, 'forbidden', [field]);
    }
    // A site admin may edit itself otherwise.
    expect(
      (
        await stack.request('PATCH', corePath('User', user.id), {
          body: { firstname: 'Ada', version: current.version },
          token,
        })
      ).status,
    ).toBe(200);
    const other = users.get('site user') as ApiObject;
    const body = await validBody('Slice', deps, { preset: { site_id: world.get('Site')?.id, creator_id: other.id } });
    expectError(await stack.request('POST', corePath('Slice'), { body, token }), 403, 'forbidden', ['creator_id']);
    const own = await stack.request('POST', corePath('Slice'), { body: { ...body, creator_id: user.id }, token });
    expect(own.status).toBe(201);
    expect((await stack.request('GET', corePath('User', user.id))).body.is_admin).toBe(false);
  });

  test("reading another site's slices: absent from lists, 404 by id, also with ?site_id=", async () => {
    const token = tokens.get('site admin') as string;
    const siteB = (users.get('site admin') as ApiObject).site_id;
    const sliceB = await createValid('Slice', deps, { site_id: siteB });
    const all = await stack.request('GET', `${corePath('Slice')}?limit=1000`, { token });
    expect(all.body.items.map((s: ApiObject) => s.id)).not.toContain(sliceB.id);
    expect(all.body.items.every((s: ApiObject) => s.site_id === world.get('Site')?.id)).toBe(true);
    const filtered = await stack.request('GET', `${corePath('Slice')}?site_id=${siteB}`, { token });
    expect(filtered.body.items).toEqual([]);
    expectError(await stack.request('GET', corePath('Slice', sliceB.id), { token }), 404, 'not_found');
    expectError(await stack.request('GET', `${corePath('Slice', sliceB.id)}/audit`, { token }), 404, 'not_found');
    const byName = await stack.request('GET', `${corePath('Slice')}?name=${sliceB.name}`, { token });
    expect(byName.body.items).toEqual([]);
  });

  test('writing through a reference to an object one cannot see: looks absent (400), writes nothing', async () => {
    const token = tokens.get('slice admin') as string;
    const otherSlice = await createValid('Slice', deps, { site_id: (users.get('slice admin') as ApiObject).site_id });
    const preset = { ...(await worldPreset(requireModel('Instance'))), slice_id: otherSlice.id };
    const body = await validBody('Instance', deps, { preset });
    const res = await stack.request('POST', corePath('Instance'), { body, token });
    expectError(res, 400, 'validation_error', ['slice_id']);
    expect(res.body.error.fields.slice_id).toBe(`no Slice with id ${otherSlice.id}`);
    // Moving a readable network into an invisible slice: the same.
    const network = world.get('Network') as ApiObject;
    const current = (await stack.request('GET', corePath('Network', network.id))).body;
    expectError(
      await stack.request('PATCH', corePath('Network', network.id), {
        body: { owner_id: otherSlice.id, version: current.version },
        token,
      }),
      400,
      'validation_error',
      ['owner_id'],
    );
  });

  test('a revoked privilege stops working at once; an expired or not yet granted one never works', async () => {
    const password = 'Pw-revocation-test';
    const user = await createValid('User', deps, {
      site_id: (users.get('site admin') as ApiObject).site_id,
      password,
      is_admin: false,
      is_staff: false,
    });
    const token = await login(user.email, password);
    const slice = world.get('Slice') as ApiObject;
    const grant = (extra: Body) =>
      createValid('Privilege', deps, {
        accessor_id: user.id,
        object_type: 'Slice',
        object_id: slice.id,
        permission: 'role:admin',
        ...extra,
      });
    const canRead = async () => (await stack.request('GET', corePath('Slice', slice.id), { token })).status === 200;

    expect(await canRead()).toBe(false);
    const expired = await grant({ granted: null, expires: new Date(Date.now() - 60_000).toISOString() });
    expect(await canRead()).toBe(false);
    await stack.request('DELETE', corePath('Privilege', expired.id));
    const future = await grant({
      permission: 'role:access',
      granted: new Date(Date.now() + 3_600_000).toISOString(),
      expires: null,
    });
    expect(await canRead()).toBe(false);
    await stack.request('DELETE', corePath('Privilege', future.id));
    const live = await createValid('Privilege', deps, {
      accessor_id: user.id,
      object_type: 'Site',
      object_id: world.get('Site')?.id,
      permission: 'role:tech',
      granted: null,
      expires: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(await canRead()).toBe(true);
    expect((await stack.request('DELETE', corePath('Privilege', live.id))).status).toBe(202);
    expect(await canRead()).toBe(false);
  });

  test('a site admin may grant roles on its site but not on another, nor grant itself more', async () => {
    const admin = users.get('site admin') as ApiObject;
    const token = tokens.get('site admin') as string;
    const target = users.get('site user') as ApiObject;
    const siteA = world.get('Site') as ApiObject;
    // Users of another site are invisible to a site admin: granting to them looks like a dead reference.
    const hidden = await stack.request('POST', corePath('Privilege'), {
      body: { accessor_id: target.id, object_type: 'Site', object_id: siteA.id, permission: 'role:tech' },
      token,
    });
    expectError(hidden, 400, 'validation_error', ['accessor_id']);
    const ok = await stack.request('POST', corePath('Privilege'), {
      body: { accessor_id: admin.id, object_type: 'Site', object_id: siteA.id, permission: 'role:pi' },
      token,
    });
    expect(ok.status).toBe(201);
    const slice = await stack.request('POST', corePath('Privilege'), {
      body: {
        accessor_id: admin.id,
        object_type: 'Service',
        object_id: world.get('Service')?.id,
        permission: 'role:admin',
      },
      token,
    });
    expect([400, 403]).toContain(slice.status);
  });

  test('a demoted admin loses its rights on the next request, not when its token expires', async () => {
    const password = 'Pw-demotion-test';
    const user = await createValid('User', deps, { password, is_admin: true });
    const token = await login(user.email, password);
    expect((await stack.request('GET', corePath('Tag'), { token })).status).toBe(200);
    const body = await validBody('Flavor', deps);
    expect((await stack.request('POST', corePath('Flavor'), { body, token })).status).toBe(201);
    const current = (await stack.request('GET', corePath('User', user.id))).body;
    expect(
      (await stack.request('PATCH', corePath('User', user.id), { body: { is_admin: false, version: current.version } }))
        .status,
    ).toBe(200);
    expectError(
      await stack.request('POST', corePath('Flavor'), { body: await validBody('Flavor', deps), token }),
      403,
      'forbidden',
    );
    expect((await stack.request('GET', corePath('Tag'), { token })).body.items).toEqual([]);
  });
});
