// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${...} are ASL definition placeholders, not templates
import fc from 'fast-check';
import { placeholders, SubstitutionError, substituteDefinition, validateDefinition } from '../../shared/sync/asl';

const LOAD = 'arn:aws:lambda:us-east-1:000000000000:function:xos-load';
const RECORD = 'arn:aws:lambda:us-east-1:000000000000:function:xos-record';

const definition = {
  Comment: 'reconcile ${Stage}',
  StartAt: 'Load',
  States: {
    Load: { Type: 'Task', Resource: '${LoadFunctionArn}', Next: 'Each' },
    Each: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemProcessor: {
        StartAt: 'Record',
        States: { Record: { Type: 'Task', Resource: '${RecordFunctionArn}', End: true } },
      },
      Next: 'Done',
    },
    Done: { Type: 'Pass', Parameters: { 'table.$': '$.t', static: ['${Stage}-a', 'x${Stage}y${Stage}'] }, End: true },
  },
};

describe('substituteDefinition', () => {
  test('replaces every placeholder, in nested states, arrays and mid-string, without touching the input', () => {
    const before = structuredClone(definition);
    const out = substituteDefinition(definition, { LoadFunctionArn: LOAD, RecordFunctionArn: RECORD, Stage: 'dev' });
    expect(definition).toEqual(before);
    expect(out.Comment).toBe('reconcile dev');
    expect(out.States.Load.Resource).toBe(LOAD);
    expect(out.States.Each.ItemProcessor.States.Record.Resource).toBe(RECORD);
    expect(out.States.Done.Parameters.static).toEqual(['dev-a', 'xdevydev']);
    expect(out.States.Done.Parameters['table.$']).toBe('$.t');
    expect(placeholders(out)).toEqual([]);
  });

  test('lists the placeholders a definition uses', () => {
    expect(placeholders(definition)).toEqual(['LoadFunctionArn', 'RecordFunctionArn', 'Stage']);
  });

  test('throws on a placeholder without a value, naming it', () => {
    expect(() => substituteDefinition(definition, { LoadFunctionArn: LOAD, Stage: 'dev' })).toThrow(
      /no substitution for placeholder\(s\): RecordFunctionArn/,
    );
  });

  test('throws on a substitution the definition never uses, unless allowed', () => {
    const subs = { LoadFunctionArn: LOAD, RecordFunctionArn: RECORD, Stage: 'dev', SweepFunctionArn: 'x' };
    expect(() => substituteDefinition(definition, subs)).toThrow(SubstitutionError);
    expect(() => substituteDefinition(definition, subs)).toThrow(/not used by the definition: SweepFunctionArn/);
    expect(substituteDefinition(definition, subs, { allowUnused: true }).States.Load.Resource).toBe(LOAD);
  });

  test('throws on a malformed placeholder', () => {
    expect(() => substituteDefinition({ a: '${}' }, {})).toThrow(/invalid placeholder/);
    expect(() => substituteDefinition({ a: '${a b}' }, {})).toThrow(/invalid placeholder/);
  });

  test('values are inserted literally (no recursive substitution, no $ patterns)', () => {
    const out = substituteDefinition({ a: '${A}', b: '${B}' }, { A: '${B}', B: "$&$'$1" });
    expect(out).toEqual({ a: '${B}', b: "$&$'$1" });
  });

  test('a definition without placeholders comes back equal', () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string().filter((s) => !s.includes('${')),
        fc.integer(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 3 }),
        fc.dictionary(
          fc.string().filter((s) => !s.includes('${') && s !== '__proto__'),
          tie('value'),
          { maxKeys: 3 },
        ),
      ),
    })).value;
    fc.assert(fc.property(json, (v) => expect(substituteDefinition(v, {})).toEqual(v)));
  });
});

describe('validateDefinition', () => {
  test('accepts a substituted definition and leaves it untouched', () => {
    const out = substituteDefinition(definition, { LoadFunctionArn: LOAD, RecordFunctionArn: RECORD, Stage: 'dev' });
    const copy = structuredClone(out);
    expect(validateDefinition(out)).toEqual({ valid: true, errors: [] });
    expect(out).toEqual(copy);
  });

  test('reports a missing transition target and a bad resource', () => {
    const result = validateDefinition({
      StartAt: 'A',
      States: { A: { Type: 'Task', Resource: 'not-an-arn', Next: 'Nowhere' } },
    });
    expect(result.valid).toBe(false);
    expect(result.errors.join('\n')).toMatch(/Resource/);
  });
});
