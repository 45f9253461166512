/**
 * The composition root of the API: wires the DynamoDB store, the token service and the object
 * service from configuration. Used by the Lambda handler (configuration from the environment) and
 * by tests and the local runtime (configuration passed in).
 */
import { randomBytes } from 'node:crypto';
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { type Api, createApi, type SecretsWriter, userFinder } from '../api/app';
import type { Logger } from '../api/errors';
import { DEFAULT_SESSION_POLICY, type SessionPolicy, Sessions } from '../auth/sessions';
import { TokenService } from '../auth/tokens';
import type { DriverRouter } from '../backends/driver';
import { BackendRouter } from '../backends/router';
import { ConflictError } from '../errors';
import { jsonLogger } from '../log/json-logger';
import { ObjectService } from '../objects/service';
import { EnvSecrets, type SecretsPort } from '../secrets/secrets';
import type { WorkflowStarter } from '../sync/contract';
import { DEFAULT_SYNC_OPTIONS, type SyncContext, type SyncOptions } from '../sync/steps';
import { BACKEND_FACTORIES, BACKEND_RESOLVERS } from './backend-factories';
import { DynamoAuthStore } from './dynamodb/auth-store';
import { DynamoStore } from './dynamodb/dynamo-store';
import { SecretsManagerSecrets } from './secrets-manager';
import { sfnStarterFromEnv } from './sfn/sfn-starter';

/** Everything the API needs to run. */
export interface ApiConfig {
  readonly tableName: string;
  /** DynamoDB endpoint override (DynamoDB Local); absent in AWS. */
  readonly dynamodbEndpoint?: string;
  readonly region?: string;
  readonly tokenSecret: string;
  readonly tokenTtlSeconds?: number;
  readonly log?: Logger;
  /** Starts reconcile executions on resync (the local runtime's workflows, or Step Functions). */
  readonly starter?: WorkflowStarter;
  /** Lockout and refresh-token lifetimes (defaults: 5 failures in 15 min lock 15 min; 7-day refresh). */
  readonly sessionPolicy?: Partial<SessionPolicy>;
  /** Where controller credentials set through the API go; without it that route refuses. */
  readonly secrets?: SecretsWriter;
}

/** The API plus the parts tests and tools reach into. */
export interface ComposedApi {
  readonly api: Api;
  readonly store: DynamoStore;
  readonly objects: ObjectService;
  readonly tokens: TokenService;
  readonly sessions: Sessions;
  /** Sessions, login failures and the audit trail in the same table. */
  readonly auth: DynamoAuthStore;
}

/** The secrets writer when none is configured: refuses, naming what to do instead. */
const NO_SECRETS_WRITER: SecretsWriter = {
  write: (ref) =>
    Promise.reject(
      new ConflictError(
        `no writable secrets store is configured here: store the secret ${ref} with your secrets manager`,
      ),
    ),
};

/** Local endpoints need credentials of some kind; DynamoDB Local ignores them. */
export function dynamoClientConfig(endpoint: string | undefined, region = 'us-east-1'): DynamoDBClientConfig {
  if (!endpoint) return { region };
  return { region, endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
}

/** Compose the API from explicit configuration. */
export function composeApi(config: ApiConfig): ComposedApi {
  const store = new DynamoStore({
    tableName: config.tableName,
    clientConfig: dynamoClientConfig(config.dynamodbEndpoint, config.region),
  });
  const objects = new ObjectService(store);
  const tokens = new TokenService(config.tokenSecret, config.tokenTtlSeconds);
  const auth = new DynamoAuthStore(store.client, store.tableName, store.calls);
  const sessions = new Sessions(auth, tokens, { ...DEFAULT_SESSION_POLICY, ...(config.sessionPolicy ?? {}) });
  const api = createApi({
    objects,
    tokens,
    sessions,
    audit: auth,
    secrets: config.secrets ?? NO_SECRETS_WRITER,
    log: config.log ?? jsonLogger('xos-api'),
    findUserByLogin: userFinder(objects),
    starter: config.starter,
  });
  return { api, store, objects, tokens, sessions, auth };
}

/**
 * Configuration from the environment: TABLE_NAME, DYNAMODB_ENDPOINT, AWS_REGION, and either
 * XOS_TOKEN_SECRET (+ XOS_TOKEN_TTL_SECONDS; the API's own tokens, locally) or XOS_AUTH=gateway-jwt
 * (AWS: every deployed route that needs a caller sits behind the gateway's JWT authorizer, whose
 * verified claims name the caller, and the API's own login is not deployed, so its signing key is a
 * random one per container). STATE_MACHINE_ARN, when set, lets resync start at once;
 * XOS_SECRET_PREFIX, when set, lets the credentials route store secrets in Secrets Manager.
 */
export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set');
  const region = env.AWS_REGION || undefined;
  const base = {
    tableName,
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    region,
    starter: env.STATE_MACHINE_ARN ? sfnStarterFromEnv(env) : undefined,
    secrets: env.XOS_SECRET_PREFIX
      ? new SecretsManagerSecrets({ prefix: env.XOS_SECRET_PREFIX, clientConfig: region ? { region } : {} })
      : undefined,
  };
  if (env.XOS_AUTH === 'gateway-jwt') return { ...base, tokenSecret: randomBytes(32).toString('base64url') };
  if (env.XOS_AUTH !== undefined && env.XOS_AUTH !== 'local')
    throw new Error(`XOS_AUTH must be local or gateway-jwt, got ${env.XOS_AUTH}`);
  const tokenSecret = env.XOS_TOKEN_SECRET;
  if (!tokenSecret) throw new Error('XOS_TOKEN_SECRET is not set');
  return {
    ...base,
    tokenSecret,
    tokenTtlSeconds: env.XOS_TOKEN_TTL_SECONDS ? Number(env.XOS_TOKEN_TTL_SECONDS) : undefined,
  };
}

/** Everything the synchronizer's steps need. */
export interface SyncConfig {
  readonly tableName: string;
  readonly dynamodbEndpoint?: string;
  readonly region?: string;
  readonly drivers: DriverRouter;
  readonly starter: WorkflowStarter;
  readonly options?: Partial<SyncOptions>;
  readonly log?: Logger;
  readonly clock?: () => Date;
  /** Share a store (and its call counter) with the API, e.g. in the local runtime. */
  readonly store?: DynamoStore;
}

/** Compose the synchronizer's context from explicit configuration. */
export function composeSync(config: SyncConfig): SyncContext & { store: DynamoStore } {
  const store =
    config.store ??
    new DynamoStore({
      tableName: config.tableName,
      clientConfig: dynamoClientConfig(config.dynamodbEndpoint, config.region),
    });
  const clock = config.clock ?? (() => new Date());
  return {
    store,
    objects: new ObjectService(store, clock),
    drivers: config.drivers,
    starter: config.starter,
    clock,
    options: { ...DEFAULT_SYNC_OPTIONS, ...(config.options ?? {}) },
    log: config.log ?? jsonLogger('xos-sync'),
  };
}

/** A starter for functions that may not start executions (their role has no states:StartExecution). */
const NO_STARTER: WorkflowStarter = {
  start: () => Promise.reject(new Error('this function starts no executions (STATE_MACHINE_ARN is not set)')),
};

/**
 * The synchronizer's context in AWS, from the environment: TABLE_NAME, AWS_REGION,
 * DYNAMODB_ENDPOINT; STATE_MACHINE_ARN for the functions that start executions; XOS_SECRET_PREFIX
 * for the functions that reach back-ends (controller credentials from Secrets Manager under that
 * prefix; without it, from XOS_SECRET_* variables). Drivers: every registered back-end factory.
 */
export function composeSyncFromEnv(options: { env?: NodeJS.ProcessEnv; log?: Logger } = {}): SyncContext {
  const env = options.env ?? process.env;
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set');
  const region = env.AWS_REGION || undefined;
  const log = options.log ?? jsonLogger('xos-sync');
  const secrets: SecretsPort = env.XOS_SECRET_PREFIX
    ? new SecretsManagerSecrets({ prefix: env.XOS_SECRET_PREFIX, clientConfig: region ? { region } : {} })
    : new EnvSecrets(env);
  return composeSync({
    tableName,
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    region,
    drivers: new BackendRouter({ factories: BACKEND_FACTORIES, resolvers: BACKEND_RESOLVERS, secrets, log }),
    starter: env.STATE_MACHINE_ARN ? sfnStarterFromEnv(env) : NO_STARTER,
    log,
  });
}
