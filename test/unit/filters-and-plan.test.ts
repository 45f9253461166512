import { ValidationError } from '../../shared/errors';
import { requireModel } from '../../shared/model/registry';
import { BY_KIND_INDEX } from '../../shared/model/table';
import { matchesAll, parseFilters } from '../../shared/objects/filters';
import { planList } from '../../shared/objects/list';
import type { StoredObject } from '../../shared/store/store';

const slice = requireModel('Slice');
const instance = requireModel('Instance');
const ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

const obj = (o: Record<string, unknown>) =>
  ({ id: ID, kind: 'Slice', version: 1, deleted: false, ...o }) as StoredObject;

describe('filters', () => {
  test('parse typed values and operators; deleted=false by default', () => {
    const f = parseFilters(slice, { max_instances__gte: '5', name__icontains: 'AB', enabled: 'true', limit: '3' });
    expect(f).toEqual([
      { field: 'max_instances', op: 'gte', value: 5 },
      { field: 'name', op: 'icontains', value: 'AB' },
      { field: 'enabled', op: 'exact', value: true },
      { field: 'deleted', op: 'exact', value: false },
    ]);
  });

  test('bad parameters are named in the 400', () => {
    try {
      parseFilters(slice, { nope: '1', max_instances: 'x', name__regex: 'a', service_specific_attribute: '1' });
      throw new Error('expected failure');
    } catch (e) {
      expect(e).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).fields).toEqual({
        nope: 'unknown field',
        max_instances: 'must be an integer',
        name__regex: expect.stringContaining('unknown operator'),
        service_specific_attribute: 'unknown field',
      });
    }
    expect(() => parseFilters(requireModel('User'), { password: 'x' })).toThrow(ValidationError);
    expect(() => parseFilters(slice, { __proto__: 'x', constructor: 'y', toString__in: 'z' } as never)).toThrow(
      ValidationError,
    );
  });

  test('match semantics', () => {
    const o = obj({ name: 'Alpha', max_instances: 10, description: null });
    const m = (params: Record<string, string>) => matchesAll(o, parseFilters(slice, params));
    expect(m({ name__iexact: 'alpha' })).toBe(true);
    expect(m({ name__contains: 'lph' })).toBe(true);
    expect(m({ name__contains: 'LPH' })).toBe(false);
    expect(m({ max_instances__lt: '10' })).toBe(false);
    expect(m({ max_instances__in: '1,10' })).toBe(true);
    expect(m({ description__isnull: 'true' })).toBe(true);
    expect(m({ deleted: 'true' })).toBe(false);
  });
});

describe('list planner (never Scan)', () => {
  test('id, unique value, reference, then by kind', () => {
    expect(planList(slice, parseFilters(slice, { id: ID }))).toEqual({ type: 'id', id: ID });
    expect(planList(slice, parseFilters(slice, { name: 'x' }))).toEqual({ type: 'unique', field: 'name', value: 'x' });
    const byRef = planList(instance, parseFilters(instance, { slice_id: ID, name__icontains: 'a' }));
    expect(byRef).toMatchObject({ type: 'index', partitions: [`Instance#slice_id#${ID}`] });
    const byKind = planList(instance, parseFilters(instance, { name__icontains: 'a' }));
    expect(byKind).toEqual({
      type: 'index',
      index: BY_KIND_INDEX,
      partitions: ['Instance#0', 'Instance#1', 'Instance#2', 'Instance#3'],
    });
  });
});
