/**
 * List filters: `?field=value` and `?field__op=value` parsed against the registry, and matched in
 * memory. Which filter drives the index query is decided in `list.ts`.
 */
import { type FieldErrors, ValidationError } from '../errors';
import type { Model } from '../model/define';
import type { Field } from '../model/fields';
import type { StoredObject } from '../store/store';

/** Filter operators (Django lookups, as XOS used). */
export const OPERATORS = [
  'exact',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'icontains',
  'iexact',
  'in',
  'isnull',
] as const;
export type Operator = (typeof OPERATORS)[number];

/** One parsed filter. */
export interface Filter {
  readonly field: string;
  readonly op: Operator;
  readonly value: unknown;
}

const SYSTEM_FILTER_FIELDS: Record<string, Field['type']> = {
  id: 'string',
  kind: 'string',
  created: 'datetime',
  updated: 'datetime',
  version: 'int',
  deleted: 'bool',
};

/** Query parameters that are not filters. */
export const RESERVED_PARAMS = new Set(['limit', 'cursor']);

/** Parse the filter parameters of a list request; 400 naming every bad parameter. */
export function parseFilters(model: Model, params: Record<string, string>): Filter[] {
  const filters: Filter[] = [];
  const errors: FieldErrors = Object.create(null);
  for (const [param, raw] of Object.entries(params)) {
    if (RESERVED_PARAMS.has(param)) continue;
    const sep = param.lastIndexOf('__');
    const field = sep > 0 ? param.slice(0, sep) : param;
    const op = (sep > 0 ? param.slice(sep + 2) : 'exact') as Operator;
    const type = Object.hasOwn(SYSTEM_FILTER_FIELDS, field)
      ? SYSTEM_FILTER_FIELDS[field]
      : model.allFields[field]?.type;
    if (!type || model.allFields[field]?.writeOnly) {
      errors[param] = 'unknown field';
      continue;
    }
    if (!OPERATORS.includes(op)) {
      errors[param] = `unknown operator; use one of ${OPERATORS.join(', ')}`;
      continue;
    }
    if (type === 'json') {
      errors[param] = 'JSON fields cannot be filtered';
      continue;
    }
    if (type === 'refs' && op !== 'contains') {
      errors[param] = 'reference lists support only __contains';
      continue;
    }
    try {
      filters.push({ field, op, value: parseValue(type, op, raw) });
    } catch (e) {
      errors[param] = (e as Error).message;
    }
  }
  if (Object.keys(errors).length > 0) throw new ValidationError('invalid filter', errors);
  if (!filters.some((f) => f.field === 'deleted')) filters.push({ field: 'deleted', op: 'exact', value: false });
  return filters;
}

function parseValue(type: Field['type'], op: Operator, raw: string): unknown {
  if (op === 'isnull') return parseBool(raw);
  if (op === 'in') return raw.split(',').map((v) => parseScalar(type, v));
  if (op === 'contains' || op === 'icontains' || op === 'iexact') return raw;
  return parseScalar(type, raw);
}

function parseScalar(type: Field['type'], raw: string): unknown {
  if (type === 'int' || type === 'float') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || (type === 'int' && !Number.isInteger(n))) {
      throw new Error(`must be ${type === 'int' ? 'an integer' : 'a number'}`);
    }
    return n;
  }
  if (type === 'bool') return parseBool(raw);
  return raw;
}

function parseBool(raw: string): boolean {
  if (raw === 'true' || raw === 'True' || raw === '1') return true;
  if (raw === 'false' || raw === 'False' || raw === '0') return false;
  throw new Error('must be true or false');
}

/** Whether an object satisfies every filter. */
export function matchesAll(obj: StoredObject, filters: readonly Filter[]): boolean {
  return filters.every((f) => matches(obj[f.field], f));
}

function matches(actual: unknown, f: Filter): boolean {
  const v = actual === undefined ? null : actual;
  switch (f.op) {
    case 'exact':
      return v === f.value;
    case 'isnull':
      return (v === null) === f.value;
    case 'in':
      return (f.value as unknown[]).includes(v);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (v === null || typeof v !== typeof f.value) return false;
      const a = v as number | string;
      const b = f.value as number | string;
      return f.op === 'gt' ? a > b : f.op === 'gte' ? a >= b : f.op === 'lt' ? a < b : a <= b;
    }
    case 'contains':
      if (Array.isArray(v)) return v.includes(f.value);
      return typeof v === 'string' && v.includes(f.value as string);
    case 'icontains':
      return typeof v === 'string' && v.toLowerCase().includes((f.value as string).toLowerCase());
    case 'iexact':
      return typeof v === 'string' && v.toLowerCase() === (f.value as string).toLowerCase();
  }
}
