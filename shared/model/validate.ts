/**
 * Request validation derived from the registry: create, replace (PUT) and patch (PATCH) bodies are
 * checked field by field, and every offending field is reported at once. Pure: no I/O.
 */
import { type FieldErrors, ForbiddenError, ValidationError } from '../errors';
import { type Model, SYSTEM_FIELD_NAMES } from './define';
import type { Field } from './fields';

/** How a body is being written. */
export type WriteMode = 'create' | 'replace' | 'patch';

/** A plain JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Check one value against its field; returns a message, or undefined when valid. */
export function checkFieldValue(field: Field, value: unknown): string | undefined {
  if (value === null) return field.nullable ? undefined : field.required ? 'is required' : 'may not be null';
  const result = field.schema.safeParse(value);
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  if (!issue) return 'is invalid';
  if (issue.code === 'invalid_type') return `must be ${jsonTypeOf(field)}`;
  return issue.message;
}

function jsonTypeOf(field: Field): string {
  switch (field.type) {
    case 'int':
      return 'an integer';
    case 'float':
      return 'a number';
    case 'bool':
      return 'a boolean';
    case 'json':
      return 'a JSON object';
    case 'refs':
      return 'a list of object ids';
    case 'ref':
    case 'generic_ref':
      return 'an object id';
    default:
      return 'a string';
  }
}

/**
 * Validate a write body for `model`. Returns the user-writable field values to store: for create
 * and replace every writable field (defaults filled in), for patch only the fields given.
 *
 * - unknown fields, read-only system fields that differ from the stored object, missing required
 *   fields and invalid values: 400 with every offending field;
 * - feedback fields (synchronizer-only) that differ from the stored object: 403.
 * `version` is not part of the body's data: the caller reads it as the concurrency token.
 */
export function validateWrite(
  model: Model,
  mode: WriteMode,
  body: unknown,
  current?: Record<string, unknown>,
): Record<string, unknown> {
  if (!isPlainObject(body)) throw new ValidationError('request body must be a JSON object');
  // Null prototypes: a "__proto__" key must be reported, not swallowed by the prototype setter.
  const errors: FieldErrors = Object.create(null);
  const forbidden: FieldErrors = Object.create(null);
  const data: Record<string, unknown> = {};

  for (const [name, value] of Object.entries(body)) {
    if (name === 'version') {
      if (mode === 'create') errors.version = 'is assigned by the server';
      continue;
    }
    if ((SYSTEM_FIELD_NAMES as readonly string[]).includes(name)) {
      if (mode === 'create' || !current || !jsonEqual(current[name], value)) errors[name] = 'is read-only';
      continue;
    }
    const field = model.allFields[name];
    if (!field) {
      errors[name] = 'unknown field';
      continue;
    }
    if (field.feedback) {
      if (mode === 'create' || !current || !jsonEqual(current[name] ?? null, value)) {
        forbidden[name] = 'is written only by the synchronizer';
      }
      continue;
    }
    const message = checkFieldValue(field, value);
    if (message) errors[name] = message;
    else data[name] = value;
  }

  if (mode !== 'patch') {
    for (const [name, field] of Object.entries(model.allFields)) {
      if (field.feedback || Object.hasOwn(body, name)) continue;
      if (field.required && !(mode === 'replace' && field.writeOnly)) errors[name] = 'is required';
      else if (field.default !== undefined) data[name] = structuredClone(field.default);
      else if (!field.writeOnly) data[name] = null;
    }
  }

  if (Object.keys(forbidden).length > 0) {
    throw new ForbiddenError('feedback fields are written only by the synchronizer', forbidden);
  }
  if (Object.keys(errors).length > 0) throw new ValidationError(`invalid ${model.kind}`, errors);
  return data;
}

/** Defaults of the feedback fields, for a newly created object. */
export function feedbackDefaults(model: Model): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of model.feedbackFields) {
    const field = model.allFields[name] as Field;
    out[name] = field.default === undefined ? null : structuredClone(field.default);
  }
  return out;
}
