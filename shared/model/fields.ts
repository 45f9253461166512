/**
 * The field DSL of the model registry. A field is declared once, with everything every consumer
 * needs: the value schema (zod), help text, limits, choices, defaults, references and their
 * on-delete behaviour, uniqueness and whether only the synchronizer may write it. Validation,
 * OpenAPI, storage keys, TOSCA types and console forms are derived from these declarations.
 */
// zod/mini: the same validators as classic zod at a fraction of the bundle (classic zod cannot be
// tree-shaken and was 440 KB of every Lambda bundle).
import * as z from 'zod/mini';

/** What happens to an object when the object it references is deleted (XOS/Django semantics). */
export type OnDelete = 'cascade' | 'set_null' | 'protect';

/** Field kinds; each maps to one JSON type on the wire. */
export type FieldType =
  | 'string'
  | 'text'
  | 'int'
  | 'float'
  | 'bool'
  | 'choice'
  | 'json'
  | 'datetime'
  | 'ref'
  | 'refs'
  | 'generic_ref'
  | 'password';

/** Semantic string formats checked on input. */
export type StringFormat = 'email' | 'url' | 'ip' | 'cidr' | 'mac';

/**
 * One declared field. `T` is the JSON value type, `N` whether the value may be null (a field is
 * nullable exactly when it is neither required nor defaulted).
 */
export interface Field<T = unknown, N extends boolean = boolean> {
  readonly type: FieldType;
  /** Schema of a non-null value. */
  readonly schema: z.ZodMiniType<T>;
  readonly help: string;
  readonly required: boolean;
  readonly nullable: N;
  readonly default?: T;
  readonly unique: boolean;
  /** Written only by the synchronizer; a user write is refused with 403. */
  readonly feedback: boolean;
  /** Accepted on write, never stored in clear nor returned (passwords). */
  readonly writeOnly: boolean;
  readonly maxLength?: number;
  readonly min?: number;
  readonly max?: number;
  readonly format?: StringFormat;
  readonly choices?: readonly string[];
  /** For `ref`/`refs`: the target kind. */
  readonly target?: string;
  /** For `ref`/`generic_ref`: what deleting the target does to this object. */
  readonly onDelete?: OnDelete;
  /** For `ref`: the XOS reverse accessor name on the target (e.g. Site.slices). */
  readonly reverse?: string;
  /** For `generic_ref`: the sibling field naming the target kind. */
  readonly typeField?: string;
  /** For `generic_ref`: the kinds it may point at. */
  readonly targets?: readonly string[];
}

/** Options shared by every scalar field. */
interface BaseOptions<T> {
  required?: boolean;
  default?: T;
  unique?: boolean;
  feedback?: boolean;
}

type Nullable<O> = O extends { required: true } ? false : O extends { default: unknown } ? false : true;

function make<T, O extends BaseOptions<T>>(
  type: FieldType,
  schema: z.ZodMiniType<T>,
  help: string,
  options: O | undefined,
  extra: Partial<Omit<Field<T>, 'nullable'>> = {},
): Field<T, Nullable<O>> {
  const required = options?.required === true;
  const hasDefault = options?.default !== undefined;
  if (required && hasDefault) throw new Error(`field "${help}": required and default are exclusive`);
  return {
    type,
    schema,
    help,
    required,
    default: options?.default,
    unique: options?.unique === true,
    feedback: options?.feedback === true,
    writeOnly: false,
    ...extra,
    nullable: (!required && !hasDefault) as Nullable<O>,
  };
}

const FORMAT_CHECKS: Record<StringFormat, { test: (s: string) => boolean; message: string }> = {
  email: { test: (s) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s), message: 'must be an email address' },
  url: {
    test: (s) => {
      try {
        const u = new URL(s);
        return u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        return false;
      }
    },
    message: 'must be an http(s) URL',
  },
  ip: { test: (s) => isIp(s), message: 'must be an IPv4 or IPv6 address' },
  cidr: {
    test: (s) => {
      const [addr, len, ...rest] = s.split('/');
      if (rest.length > 0 || addr === undefined || len === undefined || !/^\d{1,3}$/.test(len)) return false;
      return isIp(addr) && Number(len) <= (addr.includes(':') ? 128 : 32);
    },
    message: 'must be a CIDR such as 10.0.0.0/24',
  },
  mac: { test: (s) => /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(s), message: 'must be a MAC address' },
};

function isIp(s: string): boolean {
  if (/^(\d{1,3})(\.\d{1,3}){3}$/.test(s)) return s.split('.').every((o) => Number(o) <= 255);
  return s.includes(':') && /^[0-9a-fA-F:.]+$/.test(s) && s.length <= 45;
}

/** Lone UTF-16 surrogates cannot be stored as UTF-8: refuse them as input. */
function wellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}
const WELL_FORMED = 'must be valid Unicode text';

interface StringOptions extends BaseOptions<string> {
  /** Maximum length in characters (XOS max_length). */
  max?: number;
  format?: StringFormat;
}

/** A short string (XOS CharField). Leading/trailing whitespace is refused, as XOS "stripped". */
export function str<const O extends StringOptions>(help: string, options?: O): Field<string, Nullable<O>> {
  const max = options?.max ?? 200;
  const format = options?.format;
  const schema = z
    .string()
    .check(
      z.maxLength(max, `must be at most ${max} characters`),
      z.refine(wellFormed, WELL_FORMED),
      ...(format ? [z.refine<string>(FORMAT_CHECKS[format].test, FORMAT_CHECKS[format].message)] : []),
    );
  return make('string', schema, help, options, { maxLength: max, format });
}

/** Long text (XOS TextField), capped so an item always fits DynamoDB's 400 KB. */
export function text<const O extends BaseOptions<string>>(help: string, options?: O): Field<string, Nullable<O>> {
  const max = 16_384;
  const schema = z
    .string()
    .check(z.maxLength(max, `must be at most ${max} characters`), z.refine(wellFormed, WELL_FORMED));
  return make('text', schema, help, options, { maxLength: max });
}

interface NumberOptions extends BaseOptions<number> {
  min?: number;
  max?: number;
}

/** A 32-bit integer with optional bounds. */
export function int<const O extends NumberOptions>(help: string, options?: O): Field<number, Nullable<O>> {
  const min = options?.min ?? -2_147_483_648;
  const max = options?.max ?? 2_147_483_647;
  const schema = z
    .number()
    .check(
      z.refine(Number.isInteger, 'must be an integer'),
      z.gte(min, `must be >= ${min}`),
      z.lte(max, `must be <= ${max}`),
    );
  return make('int', schema, help, options, { min, max });
}

/** A finite floating-point number. */
export function float<const O extends NumberOptions>(help: string, options?: O): Field<number, Nullable<O>> {
  // DynamoDB stores numbers of magnitude 1e-130 to 1e126 (and 0): anything else is refused here, not there.
  const schema = z.number().check(
    z.refine(Number.isFinite, 'must be a finite number'),
    z.refine(
      (n) => n === 0 || (Math.abs(n) >= 1e-130 && Math.abs(n) < 1e126),
      'must be 0 or of magnitude 1e-130 to 1e126',
    ),
    ...(options?.min !== undefined ? [z.gte(options.min, `must be >= ${options.min}`)] : []),
    ...(options?.max !== undefined ? [z.lte(options.max, `must be <= ${options.max}`)] : []),
  );
  return make('float', schema, help, options, { min: options?.min, max: options?.max });
}

/** A boolean; booleans always have a default, as in XOS. */
export function bool(help: string, defaultValue: boolean, options?: { feedback?: boolean }): Field<boolean, false> {
  return make('bool', z.boolean(), help, { default: defaultValue, feedback: options?.feedback });
}

/** One of a fixed set of strings (XOS choices). */
export function choice<const C extends readonly [string, ...string[]], const O extends BaseOptions<C[number]>>(
  choices: C,
  help: string,
  options?: O,
): Field<C[number], Nullable<O>> {
  const schema = z.enum(choices as unknown as [C[number], ...C[number][]], {
    error: () => `must be one of: ${choices.join(', ')}`,
  }) as unknown as z.ZodMiniType<C[number]>;
  return make('choice', schema, help, options, { choices });
}

/** Free-form JSON object (XOS JSON text fields such as service_specific_attribute). */
export function json<const O extends BaseOptions<Record<string, unknown>>>(
  help: string,
  options?: O,
): Field<Record<string, unknown>, Nullable<O>> {
  const schema = z.record(z.string(), z.unknown(), { error: () => 'must be a JSON object' });
  return make('json', schema, help, options);
}

/** An ISO-8601 timestamp with offset. */
export function datetime<const O extends BaseOptions<string>>(help: string, options?: O): Field<string, Nullable<O>> {
  const schema = z.iso.datetime({ offset: true, error: () => 'must be an ISO-8601 date-time' });
  return make('datetime', schema, help, options);
}

/** A write-only secret (the user's password): hashed before storage, never returned. */
export function password(help: string): Field<string, true> & { readonly writeOnly: true } {
  const schema = z
    .string()
    .check(z.minLength(8, 'must be at least 8 characters'), z.maxLength(1024, 'must be at most 1024 characters'));
  return { ...make('password', schema, help, undefined), writeOnly: true };
}

/** An object id (a ULID): the one definition every layer checks ids against. */
export const OBJECT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

const ID = z.string().check(z.regex(OBJECT_ID, 'must be an object id'));

interface RefOptions {
  required?: boolean;
  onDelete?: OnDelete;
  reverse?: string;
  unique?: boolean;
  feedback?: boolean;
}

/**
 * A reference to one object of `target` (XOS manytoone). Declared under its wire name
 * (`site_id`). Every reference is indexed, so children are found by Query and cascades are cheap.
 */
export function ref<const O extends RefOptions>(target: string, help: string, options?: O): Field<string, Nullable<O>> {
  return make('ref', ID, help, options, {
    target,
    onDelete: options?.onDelete ?? (options?.required ? 'cascade' : 'set_null'),
    reverse: options?.reverse,
  });
}

/** A many-to-many reference list (`permitted_slices_ids`). */
export function refs(target: string, help: string): Field<string[], false> {
  const schema = z.array(ID).check(z.maxLength(1000, 'at most 1000 references'));
  return make('refs', schema, help, { default: [] as string[] }, { target });
}

/**
 * A reference whose target kind is named by a sibling field (XOS generic foreign keys:
 * Privilege.object_id with object_type, Tag.object_id with content_type).
 */
export function genericRef<const O extends RefOptions>(
  typeField: string,
  targets: readonly string[],
  help: string,
  options?: O,
): Field<string, Nullable<O>> {
  return make('generic_ref', ID, help, options, {
    typeField,
    targets,
    onDelete: options?.onDelete ?? 'cascade',
  });
}

/** Every field of a model, keyed by wire name. */
export type FieldMap = Record<string, Field>;

/** The JSON shape of a model's own fields as stored and returned (write-only fields omitted). */
export type FieldValues<F extends FieldMap> = {
  -readonly [K in keyof F as F[K] extends { writeOnly: true } ? never : K]: F[K] extends Field<infer T, infer N>
    ? N extends true
      ? T | null
      : T
    : never;
};
