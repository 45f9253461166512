/**
 * The OpenAPI 3.1 document, generated from the registry: one schema per kind (object, create,
 * patch), the CRUD paths under /xosapi/v1/core/<plural>, login, health and the error shape.
 */
import { type Model, SYSTEM_FIELD_NAMES } from '../define';
import type { Field } from '../fields';
import { MODELS } from '../registry';

type Schema = Record<string, unknown>;

/** JSON Schema of one field's value. */
export function fieldSchema(field: Field): Schema {
  const s: Schema = { description: field.help };
  switch (field.type) {
    case 'string':
    case 'text':
    case 'password':
      s.type = 'string';
      if (field.maxLength !== undefined) s.maxLength = field.maxLength;
      if (field.type === 'password') {
        s.minLength = 8;
        s.writeOnly = true;
      }
      if (field.format === 'email') s.format = 'email';
      if (field.format === 'url') s.format = 'uri';
      if (field.format === 'ip') s.format = 'ip';
      if (field.format) s['x-xos-format'] = field.format;
      break;
    case 'int':
      s.type = 'integer';
      if (field.min !== undefined) s.minimum = field.min;
      if (field.max !== undefined) s.maximum = field.max;
      break;
    case 'float':
      s.type = 'number';
      if (field.min !== undefined) s.minimum = field.min;
      if (field.max !== undefined) s.maximum = field.max;
      break;
    case 'bool':
      s.type = 'boolean';
      break;
    case 'choice':
      s.type = 'string';
      s.enum = [...(field.choices ?? [])];
      break;
    case 'json':
      s.type = 'object';
      break;
    case 'datetime':
      s.type = 'string';
      s.format = 'date-time';
      break;
    case 'ref':
      s.type = 'string';
      s['x-xos-ref'] = field.target;
      s['x-xos-on-delete'] = field.onDelete;
      break;
    case 'generic_ref':
      s.type = 'string';
      s['x-xos-ref-kind-field'] = field.typeField;
      break;
    case 'refs':
      s.type = 'array';
      s.items = { type: 'string', 'x-xos-ref': field.target };
      break;
  }
  if (field.default !== undefined) s.default = field.default;
  if (field.feedback) s.readOnly = true;
  if (field.nullable) s.type = [s.type, 'null'];
  return s;
}

function objectSchema(model: Model): Schema {
  const properties: Record<string, Schema> = {
    id: { type: 'string', description: 'Object id (ULID).', readOnly: true },
    kind: { type: 'string', const: model.kind, readOnly: true },
    created: { type: 'string', format: 'date-time', readOnly: true },
    updated: { type: 'string', format: 'date-time', readOnly: true, description: 'Time of the last user write.' },
    version: { type: 'integer', readOnly: true, description: 'Desired-state version, +1 on every user write.' },
    deleted: { type: 'boolean', readOnly: true, description: 'Soft-deleted, awaiting back-end removal.' },
  };
  for (const [name, f] of Object.entries(model.allFields)) if (!f.writeOnly) properties[name] = fieldSchema(f);
  return {
    type: 'object',
    description: model.description,
    properties,
    required: Object.keys(properties),
    'x-xos-access': model.policy,
  };
}

function writeSchema(model: Model, mode: 'create' | 'patch'): Schema {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [name, f] of Object.entries(model.allFields)) {
    if (f.feedback) continue;
    properties[name] = fieldSchema(f);
    if (mode === 'create' && f.required) required.push(name);
  }
  if (mode === 'patch')
    properties.version = { type: 'integer', minimum: 1, description: 'The version you read (or If-Match).' };
  return { type: 'object', additionalProperties: false, properties, ...(required.length > 0 ? { required } : {}) };
}

const ERROR = { $ref: '#/components/responses/Error' };

/** A required JSON request body. */
function jsonBody(schema: Schema): Schema {
  return { required: true, content: { 'application/json': { schema } } };
}

/** Build the whole OpenAPI document. */
export function buildOpenApi(models: readonly Model[] = MODELS): Schema {
  const schemas: Record<string, Schema> = {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message', 'request_id'],
          properties: {
            code: { type: 'string' },
            message: { type: 'string' },
            fields: { type: 'object', additionalProperties: { type: 'string' } },
            request_id: { type: 'string' },
          },
        },
      },
    },
  };
  const paths: Record<string, Schema> = {
    '/healthz': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'ok' } } } },
    '/openapi.json': {
      get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } },
    },
    '/xosapi/v1/utility/login': {
      post: {
        summary: 'Log in: exchange a username (or email) and password for a bearer token',
        security: [],
        requestBody: jsonBody({
          type: 'object',
          required: ['username', 'password'],
          properties: { username: { type: 'string' }, password: { type: 'string', writeOnly: true } },
        }),
        responses: {
          200: { description: 'An access token, a refresh token and their expiries' },
          400: ERROR,
          401: ERROR,
          429: ERROR,
        },
      },
    },
    '/xosapi/v1/utility/refresh': {
      post: {
        summary: 'Trade a refresh token for a new access token and a rotated refresh token',
        security: [],
        requestBody: jsonBody({
          type: 'object',
          required: ['refresh_token'],
          properties: { refresh_token: { type: 'string' } },
        }),
        responses: { 200: { description: 'A new token pair' }, 400: ERROR, 401: ERROR },
      },
    },
    '/xosapi/v1/utility/logout': {
      post: { summary: "Revoke the caller's session", responses: { 204: { description: 'Logged out' }, 401: ERROR } },
    },
  };
  const auditPage = {
    200: {
      description: 'Audit records, newest first',
      content: {
        'application/json': {
          schema: {
            type: 'object',
            properties: {
              items: { type: 'array', items: { type: 'object' } },
              next_cursor: { type: ['string', 'null'] },
            },
          },
        },
      },
    },
    401: ERROR,
    404: ERROR,
  };
  for (const m of models) {
    schemas[m.kind] = objectSchema(m);
    schemas[`${m.kind}Create`] = writeSchema(m, 'create');
    schemas[`${m.kind}Patch`] = writeSchema(m, 'patch');
    const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
    const body = (name: string) => ({ required: true, content: { 'application/json': { schema: ref(name) } } });
    const one = (code: number, description: string) => ({
      [code]: { description, content: { 'application/json': { schema: ref(m.kind) } } },
    });
    const filters = Object.entries(m.allFields)
      .filter(([, f]) => !f.writeOnly && f.type !== 'json')
      .map(([name, f]) => ({
        name,
        in: 'query',
        required: false,
        schema: { type: 'string' },
        description: `Filter on ${name} (${f.type}); also ${name}__op with op in gt, gte, lt, lte, contains, icontains, iexact, in, isnull.`,
      }));
    paths[`/xosapi/v1/core/${m.plural}`] = {
      get: {
        summary: `List ${m.kind} objects`,
        tags: [m.kind],
        'x-xos-access': m.policy.read,
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
          { name: 'deleted', in: 'query', schema: { type: 'boolean', default: false } },
          ...filters,
        ],
        responses: {
          200: {
            description: 'A page',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    items: { type: 'array', items: ref(m.kind) },
                    next_cursor: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          400: ERROR,
          401: ERROR,
        },
      },
      post: {
        summary: `Create a ${m.kind}`,
        tags: [m.kind],
        'x-xos-access': m.policy.create,
        requestBody: body(`${m.kind}Create`),
        responses: { ...one(201, 'Created'), 400: ERROR, 401: ERROR, 403: ERROR, 409: ERROR },
      },
    };
    const idParam = [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }];
    const ifMatch = { name: 'If-Match', in: 'header', required: false, schema: { type: 'string' } };
    paths[`/xosapi/v1/core/${m.plural}/{id}`] = {
      parameters: idParam,
      get: {
        summary: `Get a ${m.kind}`,
        tags: [m.kind],
        'x-xos-access': m.policy.read,
        responses: { ...one(200, 'The object'), 401: ERROR, 404: ERROR },
      },
      put: {
        summary: `Replace a ${m.kind} (send its version or If-Match)`,
        tags: [m.kind],
        'x-xos-access': m.policy.update,
        parameters: [ifMatch],
        requestBody: body(`${m.kind}Patch`),
        responses: { ...one(200, 'Replaced'), 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR },
      },
      patch: {
        summary: `Change some fields of a ${m.kind} (send its version or If-Match)`,
        tags: [m.kind],
        'x-xos-access': m.policy.update,
        parameters: [ifMatch],
        requestBody: body(`${m.kind}Patch`),
        responses: { ...one(200, 'Changed'), 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR },
      },
      delete: {
        summary: `Delete a ${m.kind} (soft delete; removed after the back-ends are cleaned)`,
        tags: [m.kind],
        'x-xos-access': m.policy.delete,
        responses: { ...one(202, 'Marked deleted'), 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR },
      },
    };
    // Per-object sub-routes: [path suffix, method, operation], for the kinds that have them.
    const sub = (suffix: string, method: string, summary: string, extra: Schema) => {
      paths[`/xosapi/v1/core/${m.plural}/{id}/${suffix}`] = {
        parameters: idParam,
        [method]: { summary, tags: [m.kind], ...extra },
      };
    };
    sub('audit', 'get', `Who changed this ${m.kind}, when, and which fields`, { responses: auditPage });
    if (m.kind === 'User') {
      sub('activity', 'get', 'The writes this user made (administrators and the user itself)', {
        responses: auditPage,
      });
    }
    if (m.kind === 'Controller') {
      sub('credentials', 'put', 'Set the credentials of this controller (administrators; write-only, never returned)', {
        requestBody: jsonBody({
          type: 'object',
          additionalProperties: { type: 'string', writeOnly: true },
          maxProperties: 32,
        }),
        responses: { 204: { description: 'Stored' }, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR },
      });
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'XOS on AWS',
      version: '1',
      description: 'The XOS service control plane API, generated from the model registry.',
    },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas,
      responses: {
        Error: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    },
    'x-xos-system-fields': [...SYSTEM_FIELD_NAMES],
  };
}
