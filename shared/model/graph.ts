/**
 * The reference graph of the registry: which fields of which kinds point at a kind (for cascades
 * and delete ordering), and which objects an object points at (live-reference checks, sync
 * dependencies). Derived once from the field declarations.
 */
import type { Model } from './define';
import { MODELS } from './registry';

/** A reference from a field of one kind to another kind, with its on-delete rule. */
export interface IncomingRef {
  readonly model: Model;
  readonly field: string;
  readonly onDelete: 'cascade' | 'set_null' | 'protect';
}

/** An object an object points at, through which field. */
export interface OutgoingRef {
  readonly field: string;
  readonly kind: string;
  readonly id: string;
}

const INCOMING: ReadonlyMap<string, readonly IncomingRef[]> = (() => {
  const map = new Map<string, IncomingRef[]>();
  for (const model of MODELS) {
    for (const field of model.refFields) {
      const f = model.allFields[field];
      if (!f) continue;
      const targets = f.type === 'ref' ? [f.target as string] : [...(f.targets ?? [])];
      for (const t of targets) {
        const list = map.get(t) ?? [];
        list.push({ model, field, onDelete: f.onDelete ?? 'cascade' });
        map.set(t, list);
      }
    }
  }
  return map;
})();

/** The fields of every kind that reference `kind`. */
export function incomingRefs(kind: string): readonly IncomingRef[] {
  return INCOMING.get(kind) ?? [];
}

/** The objects `obj` references: single, generic and list references, in field order. */
export function outgoingRefs(model: Model, obj: Record<string, unknown>): OutgoingRef[] {
  const refs: OutgoingRef[] = [];
  for (const [name, field] of Object.entries(model.allFields)) {
    const value = obj[name];
    if (value === null || value === undefined) continue;
    if (field.type === 'ref') refs.push({ field: name, kind: field.target as string, id: value as string });
    else if (field.type === 'generic_ref') {
      const kind = obj[field.typeField as string];
      if (typeof kind === 'string') refs.push({ field: name, kind, id: value as string });
    } else if (field.type === 'refs') {
      for (const id of value as string[]) refs.push({ field: name, kind: field.target as string, id });
    }
  }
  return refs;
}

/**
 * How deep a kind sits in the registry's dependency graph (single references only, self and
 * cyclic references ignored): 0 for kinds that reference nothing, else 1 + the deepest target.
 * Bulk starts use it so that dependencies are started before their dependents.
 */
export const DEPENDENCY_RANK: ReadonlyMap<string, number> = (() => {
  const rank = new Map<string, number>();
  const visit = (model: Model, path: Set<string>): number => {
    const known = rank.get(model.kind);
    if (known !== undefined) return known;
    path.add(model.kind);
    let deepest = -1;
    for (const name of model.refFields) {
      const f = model.allFields[name];
      if (f?.type !== 'ref' || !f.target || f.target === model.kind || path.has(f.target)) continue;
      const target = MODELS.find((m) => m.kind === f.target);
      if (target) deepest = Math.max(deepest, visit(target, path));
    }
    path.delete(model.kind);
    rank.set(model.kind, deepest + 1);
    return deepest + 1;
  };
  for (const model of MODELS) visit(model, new Set());
  return rank;
})();

/**
 * Placement kinds by the kind they place (the registry's `places`): ControllerSlice under Slice,
 * ControllerNetwork under Network, ... A placement's back-end state is derived from what it places.
 */
export const PLACEMENTS: ReadonlyMap<string, readonly Model[]> = (() => {
  const map = new Map<string, Model[]>();
  for (const model of MODELS) {
    const target = placedKind(model);
    if (!target) continue;
    map.set(target, [...(map.get(target) ?? []), model]);
  }
  return map;
})();

/** The kind a placement kind places (the target of its `places` reference); undefined for other kinds. */
function placedKind(model: Model): string | undefined {
  return model.places ? model.allFields[model.places]?.target : undefined;
}

/** The object a placement record places (its `places` reference), or undefined for other kinds. */
export function placedBy(model: Model, obj: Record<string, unknown>): OutgoingRef | undefined {
  const kind = placedKind(model);
  const id = model.places ? obj[model.places] : undefined;
  return model.places && kind && typeof id === 'string' ? { field: model.places, kind, id } : undefined;
}
