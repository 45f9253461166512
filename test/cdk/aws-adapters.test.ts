/**
 * The AWS edge of the composition: Secrets Manager secrets (prefix, cache, error classes) and the
 * environment the stack gives each function.
 */
import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { apiConfigFromEnv, composeSyncFromEnv } from '../../shared/adapters/compose';
import { SecretsManagerSecrets } from '../../shared/adapters/secrets-manager';
import { SfnWorkflowStarter } from '../../shared/adapters/sfn/sfn-starter';

function fakeClient(answer: (secretId: string) => unknown) {
  const ids: string[] = [];
  return {
    ids,
    client: {
      send: async (command: unknown) => {
        const id = (command as GetSecretValueCommand).input.SecretId as string;
        ids.push(id);
        const out = answer(id);
        if (out instanceof Error) throw out;
        return out;
      },
    } as never,
  };
}

const named = (name: string) => Object.assign(new Error(name), { name });

describe('SecretsManagerSecrets', () => {
  test('reads <prefix><ref>, parses the JSON object, and caches it for the TTL', async () => {
    let now = 1_000;
    const fake = fakeClient(() => ({ SecretString: '{"password":"p"}' }));
    const secrets = new SecretsManagerSecrets({ prefix: 'xos/dev/controllers/', client: fake.client, now: () => now });
    expect(await secrets.read('os-1')).toEqual({ password: 'p' });
    expect(await secrets.read('os-1')).toEqual({ password: 'p' });
    expect(fake.ids).toEqual(['xos/dev/controllers/os-1']);
    now += 300_001;
    await secrets.read('os-1');
    expect(fake.ids).toHaveLength(2);
  });

  test('concurrent reads share one call; a failure is not cached', async () => {
    let fail = true;
    const fake = fakeClient(() => (fail ? named('ThrottlingException') : { SecretString: '{"a":"b"}' }));
    const secrets = new SecretsManagerSecrets({ prefix: 'p/', client: fake.client });
    const [a, b] = await Promise.allSettled([secrets.read('x'), secrets.read('x')]);
    expect(a.status).toBe('rejected');
    expect(b.status).toBe('rejected');
    expect(fake.ids).toHaveLength(1);
    fail = false;
    expect(await secrets.read('x')).toEqual({ a: 'b' });
  });

  test('missing or forbidden secrets are terminal; service trouble is retryable; no value leaks', async () => {
    const secrets = (err: Error) => new SecretsManagerSecrets({ prefix: 'p/', client: fakeClient(() => err).client });
    await expect(secrets(named('ResourceNotFoundException')).read('x')).rejects.toMatchObject({
      name: 'Backend.Terminal',
    });
    await expect(secrets(named('AccessDeniedException')).read('x')).rejects.toMatchObject({
      name: 'Backend.Terminal',
    });
    await expect(secrets(named('InternalServiceError')).read('x')).rejects.toMatchObject({
      name: 'Backend.Retryable',
    });
    const bad = new SecretsManagerSecrets({
      prefix: 'p/',
      client: fakeClient(() => ({ SecretString: '{"password": 42}' })).client,
    });
    await expect(bad.read('x')).rejects.toMatchObject({ name: 'Backend.Terminal' });
  });

  test('writes put a new value, create the secret the first time, and refresh this container', async () => {
    const sent: Array<{ command: string; input: Record<string, unknown> }> = [];
    let exists = false;
    let value = '{"password":"old"}';
    const client = {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ command: command.constructor.name, input: command.input });
        if (command.constructor.name === 'GetSecretValueCommand') return { SecretString: value };
        if (command.constructor.name === 'PutSecretValueCommand' && !exists) throw named('ResourceNotFoundException');
        exists = true;
        value = command.input.SecretString as string;
        return {};
      },
    } as never;
    const secrets = new SecretsManagerSecrets({ prefix: 'xos/dev/controllers/', client });
    expect(await secrets.read('os-1')).toEqual({ password: 'old' });
    await secrets.write('os-1', { password: 'new' });
    expect(sent.slice(1).map((c) => [c.command, c.input.SecretId ?? c.input.Name])).toEqual([
      ['PutSecretValueCommand', 'xos/dev/controllers/os-1'],
      ['CreateSecretCommand', 'xos/dev/controllers/os-1'],
    ]);
    expect(await secrets.read('os-1')).toEqual({ password: 'new' });
    await secrets.write('os-1', { password: 'newer' });
    expect(sent.at(-1)?.command).toBe('PutSecretValueCommand');
    await expect(secrets.write('../x', {})).rejects.toMatchObject({ name: 'Backend.Terminal' });
  });

  test('a reference cannot leave the prefix', async () => {
    const fake = fakeClient(() => ({ SecretString: '{}' }));
    const secrets = new SecretsManagerSecrets({ prefix: 'p/', client: fake.client });
    for (const ref of ['../other', '/abs', 'a b', '', 'x'.repeat(300)])
      await expect(secrets.read(ref)).rejects.toMatchObject({ name: 'Backend.Terminal' });
    expect(fake.ids).toEqual([]);
  });
});

describe('configuration from the environment', () => {
  test('gateway-jwt API: no token secret to configure; resync starts Step Functions executions', () => {
    const config = apiConfigFromEnv({
      TABLE_NAME: 't',
      XOS_AUTH: 'gateway-jwt',
      STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:xos-dev-reconcile',
      AWS_REGION: 'eu-west-1',
    });
    expect(config.tokenSecret.length).toBeGreaterThanOrEqual(32);
    expect(config.starter).toBeInstanceOf(SfnWorkflowStarter);
    expect(
      apiConfigFromEnv({ TABLE_NAME: 't', XOS_AUTH: 'gateway-jwt', XOS_SECRET_PREFIX: 'p/' }).secrets,
    ).toBeInstanceOf(SecretsManagerSecrets);
    expect(() => apiConfigFromEnv({ TABLE_NAME: 't', XOS_AUTH: 'other' })).toThrow(/XOS_AUTH/);
    expect(() => apiConfigFromEnv({ TABLE_NAME: 't' })).toThrow(/XOS_TOKEN_SECRET/);
    expect(apiConfigFromEnv({ TABLE_NAME: 't', XOS_TOKEN_SECRET: 's' }).starter).toBeUndefined();
  });

  test('the synchronizer composes for AWS; a function without STATE_MACHINE_ARN cannot start executions', async () => {
    const ctx = composeSyncFromEnv({
      env: { TABLE_NAME: 't', AWS_REGION: 'eu-west-1', XOS_SECRET_PREFIX: 'xos/dev/controllers/' },
      log: { info: () => {}, error: () => {} },
    });
    await expect(ctx.starter.start('x', { kind: 'Slice', id: 'a', version: 1, reason: 'sweep' })).rejects.toThrow(
      /STATE_MACHINE_ARN/,
    );
    const withStarter = composeSyncFromEnv({
      env: { TABLE_NAME: 't', STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:m' },
    });
    expect(withStarter.starter).toBeInstanceOf(SfnWorkflowStarter);
    expect(() => composeSyncFromEnv({ env: {} })).toThrow(/TABLE_NAME/);
  });
});
