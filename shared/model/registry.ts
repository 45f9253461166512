/**
 * The model registry: every kind, looked up by kind name or URL plural, checked for integrity
 * once at load (dangling references, unknown key fields, duplicate names fail fast).
 */
import { type Grant, type Model, ROLES_BY_KIND, type Verb } from './define';
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
    problems.push(...policyProblems(m, known));
    if (m.shardCount < 1 || m.shardCount > 32 || !Number.isInteger(m.shardCount)) {
      problems.push(`${m.kind}: shards must be an integer in 1..32`);
    }
  }
  return problems;
}

/** A grant must name fields that exist and lead where it says: a User, a privileged kind, a reference. */
function policyProblems(m: Model, known: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const targetsOf = (field: string): readonly string[] => {
    if (field === 'id') return [m.kind];
    const f = m.fields[field];
    if (f?.type === 'ref') return [f.target as string];
    if (f?.type === 'generic_ref') return f.targets ?? [];
    return [];
  };
  for (const verb of ['read', 'create', 'update', 'delete'] as Verb[]) {
    for (const g of m.policy[verb] as Grant[]) {
      const where = `${m.kind} ${verb} policy`;
      if ('self' in g && !targetsOf(g.self).every((k) => k === 'User'))
        out.push(`${where}: self field ${g.self} must reference a User`);
      if ('self' in g && targetsOf(g.self).length === 0) out.push(`${where}: unknown self field ${g.self}`);
      if ('role' in g) {
        const kinds = targetsOf(g.on);
        if (kinds.length === 0) out.push(`${where}: unknown role field ${g.on}`);
        for (const k of kinds) {
          const roles = ROLES_BY_KIND[k];
          if (!roles) out.push(`${where}: no privileges exist on ${k} (field ${g.on})`);
          else if (!g.role.every((r) => roles.includes(r))) out.push(`${where}: ${k} has no role among ${g.role}`);
        }
      }
      if ('via' in g) {
        const f = m.fields[g.via];
        if (f?.type !== 'ref' || !known.has(f.target ?? ''))
          out.push(`${where}: via field ${g.via} must be a reference`);
      }
    }
  }
  for (const f of m.policy.adminFields) if (!(f in m.fields)) out.push(`${m.kind}: admin field ${f} is unknown`);
  return out;
}

const problems = registryProblems();
if (problems.length > 0) throw new Error(`model registry is inconsistent:\n${problems.join('\n')}`);
