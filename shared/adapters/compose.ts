/**
 * The composition root of the API: wires the DynamoDB store, the token service and the object
 * service from configuration. Used by the Lambda handler (configuration from the environment) and
 * by tests and the local runtime (configuration passed in).
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { type Api, createApi, userFinder } from '../api/app';
import type { Logger } from '../api/errors';
import { TokenService } from '../auth/tokens';
import type { DriverRouter } from '../backends/driver';
import { jsonLogger } from '../log/json-logger';
import { ObjectService } from '../objects/service';
import type { WorkflowStarter } from '../sync/contract';
import { DEFAULT_SYNC_OPTIONS, type SyncContext, type SyncOptions } from '../sync/steps';
import { DynamoStore } from './dynamodb/dynamo-store';

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
}

/** The API plus the parts tests and tools reach into. */
export interface ComposedApi {
  readonly api: Api;
  readonly store: DynamoStore;
  readonly objects: ObjectService;
  readonly tokens: TokenService;
}

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
  const api = createApi({
    objects,
    tokens,
    log: config.log ?? jsonLogger('xos-api'),
    findUserByLogin: userFinder(objects),
    starter: config.starter,
  });
  return { api, store, objects, tokens };
}

/** Configuration from the environment (TABLE_NAME, XOS_TOKEN_SECRET, DYNAMODB_ENDPOINT, AWS_REGION). */
export function apiConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const tableName = env.TABLE_NAME;
  const tokenSecret = env.XOS_TOKEN_SECRET;
  if (!tableName) throw new Error('TABLE_NAME is not set');
  if (!tokenSecret) throw new Error('XOS_TOKEN_SECRET is not set');
  return {
    tableName,
    tokenSecret,
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    region: env.AWS_REGION || undefined,
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

/**
 * The synchronizer's context in AWS, from the environment. Real back-end drivers arrive with the
 * drivers issue; until then no driver router is configured there and this refuses to start.
 */
export function composeSyncFromEnv(): SyncContext {
  throw new Error('the synchronizer has no back-end drivers configured for AWS yet (see the drivers issue)');
}
