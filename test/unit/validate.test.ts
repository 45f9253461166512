import fc from 'fast-check';
import { ForbiddenError, ValidationError } from '../../shared/errors';
import { MODELS, requireModel } from '../../shared/model/registry';
import { validateWrite } from '../../shared/model/validate';

const site = requireModel('Site');
const slice = requireModel('Slice');
const ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';

function fieldsOf(fn: () => unknown): Record<string, string> | undefined {
  try {
    fn();
  } catch (e) {
    return (e as ValidationError).fields;
  }
  throw new Error('expected a validation failure');
}

describe('validateWrite', () => {
  test('create fills defaults and nulls', () => {
    const data = validateWrite(site, 'create', { name: 'a', login_base: 'a', abbreviated_name: 'a' });
    expect(data).toMatchObject({
      enabled: true,
      hosts_nodes: true,
      site_url: null,
      no_sync: false,
      write_protect: false,
    });
    expect(data).not.toHaveProperty('backend_status');
  });

  test('reports every offending field at once', () => {
    const fields = fieldsOf(() =>
      validateWrite(slice, 'create', { name: 'x'.repeat(81), max_instances: 'ten', bogus: 1, site_id: 'nope', id: ID }),
    );
    expect(fields).toEqual({
      name: 'must be at most 80 characters',
      max_instances: 'must be an integer',
      bogus: 'unknown field',
      site_id: 'must be an object id',
      id: 'is read-only',
    });
  });

  test('required fields are required on create and replace, not on patch', () => {
    expect(fieldsOf(() => validateWrite(slice, 'create', {}))).toEqual({ name: 'is required', site_id: 'is required' });
    const current = { id: ID, name: 'x', site_id: ID, version: 1 };
    expect(fieldsOf(() => validateWrite(slice, 'replace', { version: 1 }, current))).toEqual({
      name: 'is required',
      site_id: 'is required',
    });
    expect(validateWrite(slice, 'patch', { description: 'd', version: 1 }, current)).toEqual({ description: 'd' });
  });

  test('null: allowed for optional fields, refused for required and defaulted ones', () => {
    expect(
      fieldsOf(() => validateWrite(slice, 'create', { name: null, site_id: ID, enabled: null, description: null })),
    ).toEqual({ name: 'is required', enabled: 'may not be null' });
  });

  test('feedback fields: 403 on create, 403 on update when changed, accepted when unchanged', () => {
    expect(() => validateWrite(slice, 'create', { name: 'a', site_id: ID, backend_status: 'OK' })).toThrow(
      ForbiddenError,
    );
    const current = { id: ID, name: 'a', site_id: ID, backend_status: 'OK', backend_code: 1, version: 2 };
    expect(() => validateWrite(slice, 'patch', { backend_code: 2 }, current)).toThrow(ForbiddenError);
    expect(validateWrite(slice, 'patch', { backend_code: 1, id: ID, name: 'b' }, current)).toEqual({ name: 'b' });
  });

  test('formats and choices', () => {
    const user = requireModel('User');
    expect(
      fieldsOf(() => validateWrite(user, 'create', { email: 'not-an-email', site_id: ID, user_url: 'ftp://x' })),
    ).toEqual({
      email: 'must be an email address',
      user_url: 'must be an http(s) URL',
    });
    expect(
      fieldsOf(() => validateWrite(slice, 'create', { name: 'a', site_id: ID, default_isolation: 'vmm' })),
    ).toEqual({
      default_isolation: 'must be one of: vm, container, container_vm',
    });
    const network = requireModel('Network');
    expect(
      fieldsOf(() =>
        validateWrite(network, 'create', { name: 'n', template_id: ID, owner_id: ID, subnet: '10.0.0.0/33' }),
      ),
    ).toEqual({ subnet: 'must be a CIDR such as 10.0.0.0/24' });
  });

  test('prototype keys are unknown fields, never fields (found by the property test below)', () => {
    const body = JSON.parse(
      '{"__proto__": [], "constructor": 1, "toString": 2, "name": "a", "login_base": "a", "abbreviated_name": "a"}',
    );
    const fields = fieldsOf(() => validateWrite(site, 'create', body)) ?? {};
    expect(Object.keys(fields).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.values(fields)).toEqual(['unknown field', 'unknown field', 'unknown field']);
    expect(JSON.parse(JSON.stringify(fields))).toHaveProperty(['__proto__']);
  });

  test('the body must be an object', () => {
    for (const body of [null, [], 'x', 3, true])
      expect(() => validateWrite(site, 'create', body)).toThrow(ValidationError);
  });

  test('property: any JSON body yields data or a validation/forbidden error, never anything else', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MODELS),
        fc.constantFrom('create', 'patch', 'replace'),
        fc.anything(),
        (model, mode, body) => {
          try {
            validateWrite(model, mode as 'create', body, { id: ID, version: 1 });
          } catch (e) {
            if (!(e instanceof ValidationError) && !(e instanceof ForbiddenError)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  test('property: random objects with real field names never crash the validator', () => {
    fc.assert(
      fc.property(fc.constantFrom(...MODELS), fc.anything(), fc.anything(), (model, a, b) => {
        const names = Object.keys(model.allFields);
        const body = { [names[0] as string]: a, [names[names.length - 1] as string]: b };
        try {
          validateWrite(model, 'create', body);
        } catch (e) {
          if (!(e instanceof ValidationError) && !(e instanceof ForbiddenError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
