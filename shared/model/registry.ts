/**
 * The model registry: every kind, looked up by kind name or URL plural, checked for integrity
 * once at load (dangling references, unknown key fields, duplicate names fail fast).
 */
import type { Model } from './define';
import * as kinds from './kinds';

/** All registered models, in a stable (alphabetical) order. */
export const MODELS: readonly Model[] = Object.values(kinds as unknown as Record<string, Model>).sort((a, b) =>
  a.kind.localeCompare(b.kind),
);

const byKind = new Map(MODELS.map((m) => [m.kind, m]));
const byPlural = new Map(MODELS.map((m) => [m.plural, m]));

/** The model of a kind, or undefined. */
export function modelByKind(kind: string): Model | undefined {
  return byKind.get(kind);
}

/** The model of a kind; throws for an unknown kind (a programming error, not user input). */
export function requireModel(kind: string): Model {
  const model = byKind.get(kind);
  if (!model) throw new Error(`unknown model kind ${kind}`);
  return model;
}

/** The model served under a URL plural (`sites`), or undefined. */
export function modelByPlural(plural: string): Model | undefined {
  return byPlural.get(plural);
}

/** Problems with the registry as declared; empty when it is consistent. */
export function registryProblems(models: readonly Model[] = MODELS): string[] {
  const problems: string[] = [];
  const kindsSeen = new Set<string>();
  const pluralsSeen = new Set<string>();
  for (const m of models) {
    if (kindsSeen.has(m.kind)) problems.push(`duplicate kind ${m.kind}`);
    if (pluralsSeen.has(m.plural)) problems.push(`duplicate plural ${m.plural}`);
    kindsSeen.add(m.kind);
    pluralsSeen.add(m.plural);
    if (m.plural !== m.plural.toLowerCase()) problems.push(`${m.kind}: plural must be lowercase`);
  }
  const known = new Set(models.map((m) => m.kind));
  for (const m of models) {
    for (const [name, f] of Object.entries(m.fields)) {
      if ((f.type === 'ref' || f.type === 'refs') && !known.has(f.target ?? '')) {
        problems.push(`${m.kind}.${name}: unknown target ${f.target}`);
      }
      if (f.type === 'ref' && !name.endsWith('_id'))
        problems.push(`${m.kind}.${name}: a reference's wire name ends in _id`);
      if (f.type === 'refs' && !name.endsWith('_ids'))
        problems.push(`${m.kind}.${name}: a reference list ends in _ids`);
      if (f.type === 'generic_ref') {
        const typeField = m.fields[f.typeField ?? ''];
        if (typeField?.type !== 'choice') {
          problems.push(`${m.kind}.${name}: type field ${f.typeField} must be a choice`);
        } else if (!(typeField.choices ?? []).every((c) => known.has(c) && (f.targets ?? []).includes(c))) {
          problems.push(`${m.kind}.${name}: choices of ${f.typeField} must be known kinds listed as targets`);
        }
      }
    }
    for (const u of m.uniques) {
      for (const f of u.fields)
        if (!(f in m.fields)) problems.push(`${m.kind}: unique constraint on unknown field ${f}`);
    }
    for (const f of m.natural) if (!(f in m.fields)) problems.push(`${m.kind}: natural key on unknown field ${f}`);
    if (m.shardCount < 1 || m.shardCount > 32 || !Number.isInteger(m.shardCount)) {
      problems.push(`${m.kind}: shards must be an integer in 1..32`);
    }
  }
  return problems;
}

const problems = registryProblems();
if (problems.length > 0) throw new Error(`model registry is inconsistent:\n${problems.join('\n')}`);
