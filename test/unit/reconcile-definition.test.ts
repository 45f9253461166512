import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { placeholders, substituteDefinition, validateDefinition } from '../../shared/sync/asl';
import { RECONCILE_DEFINITION_PATH, RECONCILE_STEPS } from '../../shared/sync/workflow';

const root = join(__dirname, '..', '..');
const definition = JSON.parse(readFileSync(join(root, RECONCILE_DEFINITION_PATH), 'utf8'));
type State = {
  Type: string;
  Next?: string;
  Default?: string;
  End?: boolean;
  Retry?: Array<{ ErrorEquals: string[] }>;
  Catch?: unknown[];
};
const states = definition.States as Record<string, State>;

describe('statemachines/reconcile.asl.json', () => {
  test('its placeholders are exactly the declared steps, each with its Lambda entry file', () => {
    expect(placeholders(definition).sort()).toEqual(Object.keys(RECONCILE_STEPS).sort());
    for (const step of Object.values(RECONCILE_STEPS)) {
      expect(existsSync(join(root, 'functions', 'steps', `${step.name}.ts`))).toBe(true);
    }
  });

  test('is valid ASL once substituted (asl-validator)', () => {
    const arns = Object.fromEntries(
      Object.entries(RECONCILE_STEPS).map(([k, s]) => [
        k,
        `arn:aws:lambda:us-east-1:123456789012:function:xos-${s.name}`,
      ]),
    );
    const result = validateDefinition(substituteDefinition(definition, arns));
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test('every back-end task retries retryable errors with jitter, never terminal ones, and catches to RecordFailure', () => {
    for (const name of ['Sync', 'Check', 'Delete']) {
      const state = states[name] as State & {
        Retry: Array<{ ErrorEquals: string[]; MaxAttempts?: number; JitterStrategy?: string }>;
      };
      expect(state.Retry[0]).toEqual({ ErrorEquals: ['Backend.Terminal'], MaxAttempts: 0 });
      expect(state.Retry[1]?.ErrorEquals).toContain('Backend.Retryable');
      expect(state.Retry[1]?.JitterStrategy).toBe('FULL');
      expect(state.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }]);
    }
  });

  test('a clean sync enters at most 10 states', () => {
    // Load -> Route -> Policies -> Dependencies -> Ready -> Sync -> Check -> Settled -> Record.
    const path = ['Load', 'Route', 'Policies', 'Dependencies', 'Ready', 'Sync', 'Check', 'Settled', 'Record'];
    for (const name of path) expect(states).toHaveProperty([name]);
    expect(states.Record?.End).toBe(true);
    expect(path.length).toBeLessThanOrEqual(10);
  });
});
