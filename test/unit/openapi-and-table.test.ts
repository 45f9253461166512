import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTableInput } from '../../shared/adapters/dynamodb/create-table';
import { buildOpenApi } from '../../shared/model/emit/openapi';
import { MODELS, requireModel } from '../../shared/model/registry';
import { REF_SLOTS, TABLE_DEFINITION, uniqueGuardKey } from '../../shared/model/table';
import { indexAttributes, needsSynchronizer } from '../../shared/store/keys';
import type { StoredObject } from '../../shared/store/store';

describe('OpenAPI 3.1 (derived from the registry)', () => {
  const doc = buildOpenApi() as {
    openapi: string;
    paths: Record<string, unknown>;
    components: { schemas: Record<string, unknown> };
  };

  test('the committed docs/openapi.json is up to date (run npm run openapi)', () => {
    const committed = readFileSync(join(__dirname, '../../docs/openapi.json'), 'utf8');
    expect(JSON.parse(committed)).toEqual(JSON.parse(JSON.stringify(doc)));
  });

  test('every kind has its collection and member paths and schemas', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const m of MODELS) {
      expect(doc.paths).toHaveProperty([`/xosapi/v1/core/${m.plural}`]);
      expect(doc.paths).toHaveProperty([`/xosapi/v1/core/${m.plural}/{id}`]);
      for (const s of [m.kind, `${m.kind}Create`, `${m.kind}Patch`]) expect(doc.components.schemas).toHaveProperty([s]);
    }
  });

  test('every $ref resolves and no schema exposes the password', () => {
    const text = JSON.stringify(doc);
    for (const [, name] of text.matchAll(/"\$ref":"#\/components\/(?:schemas|responses)\/([^"]+)"/g)) {
      expect(JSON.stringify(doc.components)).toContain(`"${name}":`);
    }
    const userSchema = doc.components.schemas.User as { properties: Record<string, unknown> };
    expect(userSchema.properties).not.toHaveProperty('password');
    const userCreate = doc.components.schemas.UserCreate as { properties: Record<string, { writeOnly?: boolean }> };
    expect(userCreate.properties.password?.writeOnly).toBe(true);
  });
});

describe('table definition (derived from the registry, shared with CDK)', () => {
  test('one reference index slot per reference of the widest kind', () => {
    expect(REF_SLOTS).toBe(Math.max(...MODELS.map((m) => m.refFields.length)));
    const input = createTableInput('t');
    expect(input.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(TABLE_DEFINITION.indexes.map((i) => i.name));
    expect(input.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
  });

  test('index attributes: kind shard, references, dirty while unsynced', () => {
    const instance = requireModel('Instance');
    const obj = {
      id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      kind: 'Instance',
      version: 2,
      deleted: false,
      updated: '2026-01-01T00:00:00.000Z',
      enacted_version: 1,
      policed_version: 2,
      no_sync: false,
      lazy_blocked: false,
      no_policy: false,
      slice_id: '01ARZ3NDEKTSV4RRFFQ69G5FAA',
      image_id: '01ARZ3NDEKTSV4RRFFQ69G5FAB',
      parent_id: null,
    } as unknown as StoredObject;
    const attrs = indexAttributes(instance, obj);
    expect(attrs.PK).toBe(`Instance#${obj.id}`);
    expect(attrs.GSI1PK).toMatch(/^Instance#[0-3]$/);
    expect(Object.values(attrs)).toContain('Instance#slice_id#01ARZ3NDEKTSV4RRFFQ69G5FAA');
    expect(Object.values(attrs).some((v) => v.includes('parent_id'))).toBe(false);
    expect(attrs.DIRTYSK).toBe(`2026-01-01T00:00:00.000Z#Instance#${obj.id}`);
    expect(needsSynchronizer({ ...obj, enacted_version: 2 })).toBe(false);
    expect(needsSynchronizer({ ...obj, enacted_version: 2, deleted: true })).toBe(true);
    expect(needsSynchronizer({ ...obj, no_sync: true, policed_version: 2 })).toBe(false);
  });

  test('composite unique keys cannot collide by concatenation', () => {
    const sd = requireModel('SiteDeployment');
    const a = uniqueGuardKey(sd, ['site_id', 'deployment_id'], ['a#b', 'c']);
    const b = uniqueGuardKey(sd, ['site_id', 'deployment_id'], ['a', 'b#c']);
    expect(a.PK).not.toBe(b.PK);
  });
});
