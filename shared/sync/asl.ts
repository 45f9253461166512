/**
 * Amazon States Language helpers shared by the CDK stack and the local runtime: definition
 * substitution (the `${Name}` placeholders of Step Functions `DefinitionSubstitutions`, as CDK and
 * CloudFormation apply them) and validation. Pure; no AWS imports.
 */

/** A parsed ASL definition (JSON). */
export type AslDefinition = Record<string, unknown>;

/** A `${Name}` placeholder, as DefinitionSubstitutions writes them. */
const PLACEHOLDER = /\$\{([^}]*)\}/g;

/** A placeholder name CloudFormation accepts as a DefinitionSubstitutions key. */
const PLACEHOLDER_NAME = /^[A-Za-z0-9_.:-]+$/;

/** Thrown when a definition and its substitutions do not match (a wiring bug, found before deploy). */
export class SubstitutionError extends Error {
  override readonly name = 'SubstitutionError';
}

/** Every placeholder name used in a definition (string values and object keys), sorted, unique. */
export function placeholders(definition: unknown): string[] {
  const found = new Set<string>();
  walkStrings(definition, (s) => {
    for (const m of s.matchAll(PLACEHOLDER)) found.add(m[1] ?? '');
    return s;
  });
  return [...found].sort();
}

/**
 * Replace every `${Name}` in the definition's strings (values and keys) by `substitutions[Name]`,
 * like Step Functions does with `DefinitionSubstitutions`. Returns a new definition; the input is
 * not modified. Throws SubstitutionError when a placeholder has no value, when a name is not a
 * valid key, or (unless `allowUnused`) when a substitution is never used: each is drift between
 * the ASL file and the code that wires it.
 */
export function substituteDefinition<T>(
  definition: T,
  substitutions: Readonly<Record<string, string>>,
  options: { allowUnused?: boolean } = {},
): T {
  const used = new Set<string>();
  const missing = new Set<string>();
  const out = walkStrings(definition, (s) =>
    s.replace(PLACEHOLDER, (whole, name: string) => {
      if (!PLACEHOLDER_NAME.test(name)) throw new SubstitutionError(`invalid placeholder ${whole} in the definition`);
      if (!Object.hasOwn(substitutions, name)) {
        missing.add(name);
        return whole;
      }
      used.add(name);
      return substitutions[name] as string;
    }),
  );
  if (missing.size > 0)
    throw new SubstitutionError(`no substitution for placeholder(s): ${[...missing].sort().join(', ')}`);
  if (!options.allowUnused) {
    const unused = Object.keys(substitutions).filter((k) => !used.has(k));
    if (unused.length > 0)
      throw new SubstitutionError(`substitution(s) not used by the definition: ${unused.sort().join(', ')}`);
  }
  return out as T;
}

/** Result of validating a definition. */
export interface AslValidation {
  readonly valid: boolean;
  /** One line per problem, `CODE: message`. */
  readonly errors: readonly string[];
}

type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errors: Array<{ 'Error code'?: string; Message?: string }> };

/**
 * Validate a definition with asl-validator (schema, transitions, terminal states, JSONPath and
 * ARN syntax). asl-validator is a development dependency: call this from the CDK app, the local
 * runtime and tests, not from a Lambda.
 */
export function validateDefinition(
  definition: unknown,
  options: { checkPaths?: boolean; checkArn?: boolean } = {},
): AslValidation {
  const key = JSON.stringify([definition, options]);
  const cached = validated.get(key);
  if (cached) return cached;
  // Loaded lazily so that importing substituteDefinition never needs the validator.
  const validator = require('asl-validator') as AslValidator;
  // asl-validator writes a default QueryLanguage into every state: give it a copy.
  const result = validator(JSON.parse(key)[0], { checkPaths: true, checkArn: true, ...options });
  const out = {
    valid: result.isValid,
    errors: result.errors.map((e) => `${e['Error code'] ?? 'ERROR'}: ${e.Message ?? JSON.stringify(e)}`),
  };
  if (validated.size >= 32) validated.delete(validated.keys().next().value as string);
  validated.set(key, out);
  return out;
}

/** asl-validator compiles its schemas on every call (0.3-1 s): remember recent answers. */
const validated = new Map<string, AslValidation>();

function walkStrings(value: unknown, map: (s: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((v) => walkStrings(v, map));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[map(k)] = walkStrings(v, map);
    return out;
  }
  return value;
}
