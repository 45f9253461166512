/**
 * Paged, filtered lists without Scan. The planner picks the narrowest access path the filters
 * allow (a unique guard lookup, a reference index, or the sharded by-kind index) and the rest of
 * the filters are applied while the page fills. Pages are in id (creation) order; the cursor is the
 * last id returned, bound to the filters it was issued for.
 */
import { createHash } from 'node:crypto';
import { MAX_SCOPE_PARTITIONS, type ReadScope } from '../authz/authorizer';
import { ValidationError } from '../errors';
import type { Model } from '../model/define';
import { OBJECT_ID } from '../model/fields';
import { BY_KIND_INDEX, type IndexDefinition, kindPartitions, refIndex, refPartition, refSlot } from '../model/table';
import type { PartitionPage, Store, StoredObject } from '../store/store';
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

/**
 * What the caller may read, for lists: the read scope of its policies (sources read through the
 * reference indexes), or, when that scope is too wide to expand, a per-object check.
 */
export interface ListAccess {
  /** Undefined: check each item with `canRead` (bounded by MAX_EXAMINED per page). */
  readonly scope?: ReadScope;
  canRead(obj: StoredObject): Promise<boolean>;
}

/** Whether an object is in one of a scope's sources. */
function inScope(obj: StoredObject, scope: ReadScope): boolean {
  return scope.all || scope.sources.some((s) => s.ids.includes(String(obj[s.field])));
}

/** A source of objects in ascending id order: the next page after an id. */
type Fetcher = (after: string | undefined, limit: number) => Promise<PartitionPage>;

/** Run a list request; with `access`, only objects the caller may read are listed. */
export async function listObjects(
  store: Store,
  model: Model,
  filters: readonly Filter[],
  options: { limit?: string; cursor?: string },
  access?: ListAccess,
): Promise<ListPage> {
  const limit = parseLimit(options.limit);
  const binding = filterBinding(model, filters);
  const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, binding);
  const plan = planList(model, filters);
  const scoped = access && !access.scope?.all ? access : undefined;

  if (plan.type === 'empty') return { items: [], next_cursor: null };
  if (plan.type !== 'index') {
    const id = plan.type === 'id' ? plan.id : await store.findUnique(model.kind, [plan.field], [plan.value]);
    const obj = id === undefined || (after !== undefined && id <= after) ? undefined : await store.get(model.kind, id);
    const found = obj && obj.kind === model.kind && matchesAll(obj, filters) ? obj : undefined;
    const readable =
      found !== undefined && (!scoped || (scoped.scope ? inScope(found, scoped.scope) : await scoped.canRead(found)));
    return { items: readable ? [found] : [], next_cursor: null };
  }

  const batch = Math.min(MAX_LIMIT, filters.length > 1 ? Math.max(limit * 2, 100) : limit + 1);
  let fetchers = plan.partitions.map(
    (p): Fetcher =>
      (last, n) =>
        store.queryPartition(plan.index, p, last, n),
  );
  let check: ((obj: StoredObject) => Promise<boolean>) | undefined;
  if (scoped?.scope && !scoped.scope.all) {
    const scopeFetchers = scopeSources(store, model, scoped.scope, filters);
    if (scopeFetchers) fetchers = scopeFetchers;
    else check = scoped.canRead;
  } else if (scoped) check = scoped.canRead;

  const items: StoredObject[] = [];
  let examined = 0;
  let lastSeen: string | undefined;
  const merged = mergeSources(fetchers, after, batch);
  for await (const obj of merged) {
    if (items.length === limit) {
      // One more item exists past the page: the page ends at its last item.
      return { items, next_cursor: encodeCursor(items[items.length - 1]?.id as string, binding) };
    }
    examined++;
    lastSeen = obj.id;
    if (matchesAll(obj, filters) && (!check || (await check(obj)))) items.push(obj);
    if (examined >= MAX_EXAMINED && items.length < limit) {
      // Partial page: tell the client where to resume rather than reading without bound.
      return { items, next_cursor: encodeCursor(lastSeen, binding) };
    }
  }
  return { items, next_cursor: null };
}

/**
 * The reads that cover a scope: one reference-index partition per (field, target) and the objects
 * named directly, narrowed by exact filters on the same fields. Undefined when the scope spans more
 * partitions than a list should read (the caller then checks items one by one).
 */
function scopeSources(
  store: Store,
  model: Model,
  scope: ReadScope & { all: false },
  filters: readonly Filter[],
): Fetcher[] | undefined {
  const exact = new Map(filters.filter((f) => f.op === 'exact' && f.value !== null).map((f) => [f.field, f.value]));
  const fetchers: Fetcher[] = [];
  const direct: string[] = [];
  let partitions = 0;
  for (const source of scope.sources) {
    const wanted = exact.get(source.field);
    const ids = wanted === undefined ? source.ids : source.ids.filter((id) => id === wanted);
    if (source.field === 'id') {
      direct.push(...ids);
      continue;
    }
    const slot = refSlot(model, source.field) as number;
    partitions += ids.length;
    if (partitions > MAX_SCOPE_PARTITIONS) return undefined;
    for (const id of ids) {
      const partition = refPartition(model, source.field, id);
      fetchers.push((last, n) => store.queryPartition(refIndex(slot), partition, last, n));
    }
  }
  if (direct.length > 0) {
    const sorted = [...new Set(direct)].sort();
    fetchers.push(async (last, n) => {
      let pos = last === undefined ? 0 : sorted.findIndex((id) => id > last);
      if (pos < 0) pos = sorted.length;
      while (pos < sorted.length) {
        const next = sorted.slice(pos, pos + Math.min(n, 100));
        pos += next.length;
        const found = await store.getMany(next.map((id) => ({ kind: model.kind, id })));
        const items = next.map((id) => found.get(id)).filter((o): o is StoredObject => o?.kind === model.kind);
        if (items.length > 0) return { items, exhausted: pos >= sorted.length };
      }
      return { items: [], exhausted: true };
    });
  }
  return fetchers;
}

/**
 * Merge ascending pages of several sources into one ascending stream of distinct objects (k-way
 * merge), fetching a source's next page only when its buffer runs dry.
 */
async function* mergeSources(
  fetchers: readonly Fetcher[],
  after: string | undefined,
  batch: number,
): AsyncGenerator<StoredObject> {
  const states = fetchers.map((f) => ({ fetch: f, buffer: [] as StoredObject[], last: after, exhausted: false }));
  let yielded: string | undefined;
  const fill = async (s: (typeof states)[number]) => {
    const page = await s.fetch(s.last, batch);
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
    const next = best.buffer.shift() as StoredObject;
    // The same object can be in two sources (a slice the caller created at its own site).
    if (next.id !== yielded) yield next;
    yielded = next.id;
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
