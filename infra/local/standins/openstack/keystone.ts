/**
 * Keystone v3 subset of the stand-in: password tokens (201 + X-Subject-Token, catalog in the body),
 * projects, users, roles, role grants (PUT idempotent, revoke of a missing grant 404), role
 * assignments and domains, with Keystone's status codes and messages.
 */
import { type CloudState, filterBy, hexId, type Json, keystoneError, type Reply, type Req } from './state';

/** Catalog entries for the token body. */
export type Catalog = ReadonlyArray<{ type: string; name: string; url: string }>;

const scrubUser = (u: Json): Json => {
  const { password: _password, ...rest } = u;
  return rest;
};

function authenticate(cloud: CloudState, req: Req, catalog: Catalog, region: string): Reply {
  const identity = (req.body.auth as Json | undefined)?.identity as Json | undefined;
  const pw = (identity?.password as Json | undefined)?.user as Json | undefined;
  if (!pw || typeof pw.password !== 'string')
    return keystoneError(400, "'identity' is a required property\n\nFailed validating 'required' in schema");
  const user = [...cloud.identity.users.values()].find((u) =>
    pw.id
      ? u.id === pw.id
      : u.name === pw.name && u.domain_id === (((pw.domain as Json | undefined)?.id as string) ?? 'default'),
  );
  if (!user || cloud.passwords.get(String(user.id)) !== pw.password || user.enabled === false)
    return keystoneError(401, 'The request you have made requires authentication.');
  const scope = ((req.body.auth as Json).scope as Json | undefined)?.project as Json | undefined;
  let project: Json | undefined;
  if (scope) {
    project = [...cloud.identity.projects.values()].find((p) => (scope.id ? p.id === scope.id : p.name === scope.name));
    const roles = project
      ? [...cloud.grants].filter((g) => g.startsWith(`${String(project?.id)}|${String(user.id)}|`))
      : [];
    if (!project || roles.length === 0) return keystoneError(401, 'The request you have made requires authentication.');
  }
  const token = `gAAAAAB${hexId()}${hexId()}`;
  const expiresAt = Date.now() + cloud.knobs.tokenTtlMs;
  cloud.tokens.set(token, { userId: String(user.id), projectId: project ? String(project.id) : '', expiresAt });
  const iso = (t: number) => new Date(t).toISOString().replace(/Z$/, '000Z');
  return {
    status: 201,
    headers: { 'x-subject-token': token },
    body: {
      token: {
        methods: ['password'],
        user: { domain: { id: 'default', name: 'Default' }, id: user.id, name: user.name, password_expires_at: null },
        audit_ids: [hexId().slice(0, 22)],
        expires_at: iso(expiresAt),
        issued_at: iso(Date.now()),
        ...(project
          ? {
              project: { domain: { id: 'default', name: 'Default' }, id: project.id, name: project.name },
              is_domain: false,
              roles: [...cloud.grants]
                .filter((g) => g.startsWith(`${String(project?.id)}|${String(user.id)}|`))
                .map((g) => cloud.identity.roles.get(g.split('|')[2] ?? '')),
              catalog: catalog.map((c) => ({
                id: hexId(),
                type: c.type,
                name: c.name,
                endpoints: ['public', 'internal', 'admin'].map((i) => ({
                  id: hexId(),
                  interface: i,
                  region_id: region,
                  region,
                  url: c.url,
                })),
              })),
            }
          : {}),
      },
    },
  };
}

function collection(name: string, items: Json[]): Reply {
  return { status: 200, body: { [name]: items, links: { next: null, self: '', previous: null } } };
}

/** Handle a Keystone request (path below `/v3`). */
export function keystone(cloud: CloudState, req: Req, catalog: Catalog, region: string): Reply {
  const [a, b, c, d, e, f] = req.parts;
  const m = req.method;
  if (a === 'auth' && b === 'tokens') {
    if (m === 'POST') return authenticate(cloud, req, catalog, region);
    const subject = String(req.headers['x-subject-token'] ?? '');
    const info = cloud.tokens.get(subject);
    if (!info || info.expiresAt < Date.now()) return keystoneError(404, `Could not find token: ${subject}.`);
    if (m === 'DELETE') {
      cloud.tokens.delete(subject);
      return { status: 204 };
    }
    return { status: 200, body: { token: { user: { id: info.userId }, project: { id: info.projectId } } } };
  }
  if (a === 'domains' && m === 'GET')
    return collection('domains', filterBy(cloud.domains.values(), req.query, ['name']));
  if (a === 'roles' && m === 'GET')
    return collection('roles', filterBy(cloud.identity.roles.values(), req.query, ['name']));
  if (a === 'role_assignments' && m === 'GET') {
    const user = req.query.get('user.id');
    const project = req.query.get('scope.project.id');
    const items = [...cloud.grants]
      .map((g) => g.split('|') as [string, string, string])
      .filter(([p, u]) => (!user || u === user) && (!project || p === project))
      .map(([p, u, r]) => ({ scope: { project: { id: p } }, user: { id: u }, role: { id: r }, links: {} }));
    return collection('role_assignments', items);
  }
  if (a === 'projects' && c === 'users' && e === 'roles' && b && d && f) {
    if (!cloud.identity.projects.has(b)) return keystoneError(404, `Could not find project: ${b}.`);
    if (!cloud.identity.users.has(d)) return keystoneError(404, `Could not find user: ${d}.`);
    if (!cloud.identity.roles.has(f)) return keystoneError(404, `Could not find role: ${f}.`);
    const key = `${b}|${d}|${f}`;
    if (m === 'PUT') {
      cloud.grants.add(key);
      return { status: 204 };
    }
    if (!cloud.grants.has(key))
      return keystoneError(
        404,
        `Could not find role assignment with role: ${f}, user or group: ${d}, project, domain, or system: ${b}.`,
      );
    if (m === 'DELETE') cloud.grants.delete(key);
    return { status: 204 };
  }
  if (a === 'projects') return crud(cloud, req, 'project', cloud.identity.projects, b);
  if (a === 'users') return crud(cloud, req, 'user', cloud.identity.users, b);
  return keystoneError(404, 'The resource could not be found.');
}

function crud(cloud: CloudState, req: Req, kind: 'project' | 'user', items: Map<string, Json>, id?: string): Reply {
  const m = req.method;
  if (!id) {
    if (m === 'GET') {
      const found = filterBy(items.values(), req.query, ['name', 'domain_id']);
      return collection(`${kind}s`, kind === 'user' ? found.map(scrubUser) : found);
    }
    if (m !== 'POST') return keystoneError(405, 'Method not allowed');
    const body = req.body[kind] as Json | undefined;
    if (!body || typeof body.name !== 'string')
      return keystoneError(
        400,
        `'name' is a required property\n\nFailed validating 'required' in schema['properties']['${kind}']`,
      );
    const domain = String(body.domain_id ?? 'default');
    const newId = hexId();
    if ([...items.values()].some((x) => x.name === body.name && x.domain_id === domain)) {
      return keystoneError(
        409,
        kind === 'project'
          ? `Conflict occurred attempting to store project - it is not permitted to have two projects with either the same name or same id in the same domain: name is ${body.name}, project id ${newId}.`
          : `Conflict occurred attempting to store user - Duplicate entry found with name ${body.name} at domain ID ${domain}.`,
      );
    }
    let item: Json;
    if (kind === 'project') {
      item = { ...cloud.newProject(newId, body.name, String(body.description ?? '')), enabled: body.enabled !== false };
    } else {
      const { password, ...rest } = body;
      item = {
        ...rest,
        id: newId,
        domain_id: domain,
        enabled: body.enabled !== false,
        password_expires_at: null,
        options: {},
      };
      if (typeof password === 'string') cloud.passwords.set(newId, password);
    }
    items.set(newId, item);
    return { status: 201, body: { [kind]: item } };
  }
  const item = items.get(id);
  if (!item) return keystoneError(404, `Could not find ${kind}: ${id}.`);
  if (m === 'GET') return { status: 200, body: { [kind]: kind === 'user' ? scrubUser(item) : item } };
  if (m === 'PATCH') {
    const { password, ...patch } = (req.body[kind] as Json | undefined) ?? {};
    Object.assign(item, patch);
    if (typeof password === 'string') cloud.passwords.set(id, password);
    return { status: 200, body: { [kind]: { ...(kind === 'user' ? scrubUser(item) : item), extra: {} } } };
  }
  if (m === 'DELETE') {
    items.delete(id);
    for (const g of [...cloud.grants]) {
      const [p, u] = g.split('|');
      if ((kind === 'project' && p === id) || (kind === 'user' && u === id)) cloud.grants.delete(g);
    }
    return { status: 204 };
  }
  return keystoneError(405, 'Method not allowed');
}
