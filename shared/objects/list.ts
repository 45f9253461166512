/**
 * Paged, filtered lists without Scan. The planner picks the narrowest access path the filters
 * allow (a unique guard lookup, a reference index, or the sharded by-kind index) and the rest of
 * the filters are applied while the page fills. Pages are in id (creation) order; the cursor is the
 * last id returned, bound to the filters it was issued for.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../errors';
import type { Model } from '../model/define';
import { OBJECT_ID } from '../model/fields';
import { BY_KIND_INDEX, type IndexDefinition, kindPartitions, refIndex, refPartition, refSlot } from '../model/table';
import type { Store, StoredObject } from '../store/store';
import { type Filter, matchesAll } from './filters';

/** Default and maximum page sizes. */
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;
/** Most items examined for one page: bounds latency when in-memory filters reject most items. */
export const MAX_EXAMINED = 5000;

/** Longest unique-guard value worth looking up: longer ones exceed what any write could store. */
const MAX_KEY_VALUE_CHARS = 1024;

/** How a list request reads storage. */
export type ListPlan =
  | { readonly type: 'empty' }
  | { readonly type: 'id'; readonly id: string }
  | { readonly type: 'unique'; readonly field: string; readonly value: unknown }
  | { readonly type: 'index'; readonly index: IndexDefinition; readonly partitions: readonly string[] };

/** A page of results. */
export interface ListPage {
  readonly items: StoredObject[];
  readonly next_cursor: string | null;
}

/** Choose the access path: exact id, then a single-field unique value, then a reference, else by kind. */
export function planList(model: Model, filters: readonly Filter[]): ListPlan {
  const exact = filters.filter((f) => f.op === 'exact' && f.value !== null);
  const byId = exact.find((f) => f.field === 'id');
  if (byId) return OBJECT_ID.test(String(byId.value)) ? { type: 'id', id: String(byId.value) } : { type: 'empty' };
  for (const f of exact) {
    if (model.uniques.some((u) => u.fields.length === 1 && u.fields[0] === f.field)) {
      if (JSON.stringify(f.value).length > MAX_KEY_VALUE_CHARS) return { type: 'empty' };
      return { type: 'unique', field: f.field, value: f.value };
    }
  }
  for (const f of exact) {
    const slot = refSlot(model, f.field);
    if (slot !== undefined && typeof f.value === 'string') {
      if (!OBJECT_ID.test(f.value)) return { type: 'empty' };
      return { type: 'index', index: refIndex(slot), partitions: [refPartition(model, f.field, f.value)] };
    }
  }
  return { type: 'index', index: BY_KIND_INDEX, partitions: kindPartitions(model) };
}

/** Run a list request. */
export async function listObjects(
  store: Store,
  model: Model,
  filters: readonly Filter[],
  options: { limit?: string; cursor?: string },
): Promise<ListPage> {
  const limit = parseLimit(options.limit);
  const binding = filterBinding(model, filters);
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, binding);
  const plan = planList(model, filters);

  if (plan.type === 'empty') return { items: [], next_cursor: null };
  if (plan.type !== 'index') {
    const id = plan.type === 'id' ? plan.id : await store.findUnique(model.kind, [plan.field], [plan.value]);
    const obj = id === undefined || (after !== undefined && id <= after) ? undefined : await store.get(model.kind, id);
    const items = obj && obj.kind === model.kind && matchesAll(obj, filters) ? [obj] : [];
    return { items, next_cursor: null };
  }

  const items: StoredObject[] = [];
  let examined = 0;
  let lastSeen: string | undefined;
  const batch = Math.min(MAX_LIMIT, filters.length > 1 ? Math.max(limit * 2, 100) : limit + 1);
  const merged = mergePartitions(store, plan.index, plan.partitions, after, batch);
  for await (const obj of merged) {
    if (items.length === limit) {
      // One more item exists past the page: the page ends at its last item.
      return { items, next_cursor: encodeCursor(items[items.length - 1]?.id as string, binding) };
    }
    examined++;
    lastSeen = obj.id;
    if (matchesAll(obj, filters)) items.push(obj);
    if (examined >= MAX_EXAMINED && items.length < limit) {
      // Partial page: tell the client where to resume rather than reading without bound.
      return { items, next_cursor: encodeCursor(lastSeen, binding) };
    }
  }
  return { items, next_cursor: null };
}

/**
 * Merge ascending pages of several partitions into one ascending stream (k-way merge), fetching a
 * partition's next page only when its buffer runs dry.
 */
async function* mergePartitions(
  store: Store,
  index: IndexDefinition,
  partitions: readonly string[],
  after: string | undefined,
  batch: number,
): AsyncGenerator<StoredObject> {
  const states = partitions.map((p) => ({ partition: p, buffer: [] as StoredObject[], last: after, exhausted: false }));
  const fill = async (s: (typeof states)[number]) => {
    const page = await store.queryPartition(index, s.partition, s.last, batch);
    s.buffer.push(...page.items);
    s.exhausted = page.exhausted || page.items.length === 0;
    const tail = page.items[page.items.length - 1];
    if (tail) s.last = tail.id;
  };
  await Promise.all(states.map(fill));
  for (;;) {
    const dry = states.filter((s) => s.buffer.length === 0 && !s.exhausted);
    if (dry.length > 0) await Promise.all(dry.map(fill));
    let best: (typeof states)[number] | undefined;
    for (const s of states) {
      const head = s.buffer[0];
      if (head && (!best || head.id < (best.buffer[0] as StoredObject).id)) best = s;
    }
    if (!best) return;
    yield best.buffer.shift() as StoredObject;
  }
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_LIMIT) {
    throw new ValidationError('invalid limit', { limit: `must be an integer from 1 to ${MAX_LIMIT}` });
  }
  return n;
}

function filterBinding(model: Model, filters: readonly Filter[]): string {
  const canonical = JSON.stringify([model.kind, [...filters].map((f) => [f.field, f.op, f.value]).sort()]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 12);
}

function encodeCursor(after: string, binding: string): string {
  return Buffer.from(JSON.stringify({ a: after, b: binding })).toString('base64url');
}

function decodeCursor(cursor: string, binding: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { a?: unknown; b?: unknown };
    if (typeof parsed.a === 'string' && OBJECT_ID.test(parsed.a) && parsed.b === binding) return parsed.a;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError('invalid cursor', { cursor: 'not a cursor issued for this list and these filters' });
}
