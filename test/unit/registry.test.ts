import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { defineModel } from '../../shared/model/define';
import { ref, str } from '../../shared/model/fields';
import { PLACEMENTS } from '../../shared/model/graph';
import * as kinds from '../../shared/model/kinds';
import { MODELS, modelByKind, modelByPlural, registryProblems } from '../../shared/model/registry';
import { POLICIES } from '../../shared/policies';

/** DESIGN section 4: the core kinds. */
const CORE_KINDS = [
  'Site',
  'Deployment',
  'SiteDeployment',
  'Controller',
  'User',
  'Privilege',
  'Role',
  'Slice',
  'Instance',
  'Network',
  'NetworkTemplate',
  'NetworkSlice',
  'Port',
  'Image',
  'Flavor',
  'Node',
  'Service',
  'ServiceAttribute',
  'ServiceDependency',
  'ServiceInstance',
  'ServiceInstanceLink',
  'ServiceInstanceAttribute',
  'View',
  'Tag',
  'AddressPool',
  'ControllerSite',
  'ControllerSlice',
  'ControllerUser',
  'ControllerNetwork',
  'ControllerImage',
  'ControllerSitePrivilege',
  'ControllerSlicePrivilege',
];

describe('model registry', () => {
  test('declares every core kind of DESIGN section 4', () => {
    expect(MODELS.map((m) => m.kind).sort()).toEqual([...CORE_KINDS].sort());
  });

  test('every file of shared/model/kinds is exported by its index (adding a kind = adding a file)', () => {
    const dir = join(__dirname, '../../shared/model/kinds');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
    expect(files).toHaveLength(Object.keys(kinds).length);
    const exported = new Set(Object.values(kinds).map((m) => (m as { kind: string }).kind));
    for (const f of files) {
      const kind = f
        .replace('.ts', '')
        .split('-')
        .map((p) => p[0]?.toUpperCase() + p.slice(1))
        .join('');
      expect(exported).toContain(kind);
    }
  });

  test('is consistent', () => {
    expect(registryProblems()).toEqual([]);
  });

  test('placement kinds: each places one required reference, and every placed kind has a model policy (which refreshes its placements)', () => {
    const placed = [...PLACEMENTS.entries()].map(([kind, models]) => [kind, models.map((m) => m.kind)]);
    expect(Object.fromEntries(placed)).toEqual({
      Image: ['ControllerImage'],
      Network: ['ControllerNetwork'],
      Privilege: ['ControllerSitePrivilege', 'ControllerSlicePrivilege'],
      Site: ['ControllerSite'],
      Slice: ['ControllerSlice'],
      User: ['ControllerUser'],
    });
    for (const [kind, models] of PLACEMENTS) {
      expect(POLICIES[kind]).toBeDefined();
      for (const m of models) expect(m.allFields[m.places as string]).toMatchObject({ type: 'ref', required: true });
    }
  });

  test('looks kinds up by name and by plural', () => {
    expect(modelByPlural('slices')?.kind).toBe('Slice');
    expect(modelByPlural('serviceinstancelinks')?.kind).toBe('ServiceInstanceLink');
    expect(modelByKind('Slice')?.plural).toBe('slices');
    expect(modelByPlural('nope')).toBeUndefined();
  });

  test('finds a dangling reference, a bad unique constraint and a duplicate plural', () => {
    const bad = defineModel({
      kind: 'Broken',
      plural: 'sites',
      description: 'x',
      fields: { name: str('n'), thing_id: ref('Nowhere', 'x') },
      uniqueTogether: [{ fields: ['name'] }],
      toscaKey: ['name'],
      access: { read: [{ via: 'name' }, { role: ['admin'], on: 'thing_id' }], write: [], adminFields: ['nope'] },
    });
    const withMissing = { ...bad, uniques: [{ fields: ['missing'], nullsEqual: false }] };
    const problems = registryProblems([...MODELS, withMissing]);
    expect(problems).toEqual(
      expect.arrayContaining([
        'duplicate plural sites',
        'Broken.thing_id: unknown target Nowhere',
        'Broken: unique constraint on unknown field missing',
        'Broken read policy: via field name must be a reference',
        'Broken read policy: no privileges exist on Nowhere (field thing_id)',
        'Broken: admin field nope is unknown',
      ]),
    );
  });

  test('a model may not redeclare a lifecycle field', () => {
    expect(() =>
      defineModel({
        kind: 'X',
        plural: 'xs',
        description: 'x',
        fields: { version: str('v') },
        access: { read: [], write: [] },
      }),
    ).toThrow(/collides with a lifecycle field/);
  });

  test('XOS constraints are declared', () => {
    const uniques = (kind: string) => modelByKind(kind)?.uniques.map((u) => u.fields.join('+'));
    expect(uniques('Slice')).toContain('name');
    expect(uniques('SiteDeployment')).toContain('site_id+deployment_id');
    expect(uniques('NetworkSlice')).toContain('network_id+slice_id');
    expect(uniques('ControllerSlice')).toContain('controller_id+slice_id');
    expect(uniques('Image')).toContain('name+tag');
    expect(modelByKind('User')?.natural).toEqual(['email']);
    expect(modelByKind('Slice')?.validators?.map((v) => v.name)).toContain('slice_name_no_spaces');
    expect(modelByKind('Instance')?.feedbackFields.has('instance_id')).toBe(true);
    expect(modelByKind('User')?.allFields.password?.writeOnly).toBe(true);
  });
});
