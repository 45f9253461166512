/**
 * The Lambda functions of the stack, declared once: entry file, what each may touch, and how it is
 * bundled. The stack grants exactly these accesses; the bundle report builds the same entries with
 * the same esbuild options. The reconcile steps come from the workflow's own step table, so a step
 * added to the state machine without an access declaration here fails synthesis.
 */
import { RECONCILE_STEPS } from '../../shared/sync/workflow';

/** What a function may do with the table. */
export type TableAccess = 'none' | 'read' | 'readWrite';

/** One Lambda function of the stack. */
export interface LambdaSpec {
  /** Construct id and name suffix (`xos-<stage>-<name>`). */
  readonly name: string;
  /** Entry file, relative to the repository root. */
  readonly entry: string;
  readonly description: string;
  readonly table: TableAccess;
  /** Calls states:StartExecution on the reconcile state machine. */
  readonly startsExecutions: boolean;
  /** Talks to back-ends: controller secrets, and the back-end VPC when one is configured. */
  readonly backendFacing: boolean;
  /** Stores controller credentials (the API's write-only credentials route); never reads them. */
  readonly writesSecrets?: boolean;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** A reconcile task: its definition substitution key. */
  readonly placeholder?: string;
}

/** Accesses of each reconcile step (shared/sync/steps.ts): the stores and ports each one calls. */
const STEP_ACCESS: Readonly<Record<string, Pick<LambdaSpec, 'table' | 'startsExecutions' | 'backendFacing'>>> = {
  load: { table: 'readWrite', startsExecutions: false, backendFacing: false },
  policies: { table: 'readWrite', startsExecutions: false, backendFacing: false },
  dependencies: { table: 'readWrite', startsExecutions: true, backendFacing: false },
  sync: { table: 'read', startsExecutions: false, backendFacing: true },
  check: { table: 'read', startsExecutions: false, backendFacing: true },
  delete: { table: 'read', startsExecutions: false, backendFacing: true },
  record: { table: 'readWrite', startsExecutions: true, backendFacing: false },
};

/** Every function: the API, the stream dispatcher, the sweeper and one per reconcile step. */
export function lambdaSpecs(): LambdaSpec[] {
  const steps = Object.entries(RECONCILE_STEPS).map(([placeholder, step]): LambdaSpec => {
    const access = STEP_ACCESS[step.name];
    if (!access) throw new Error(`reconcile step ${step.name} has no access declaration in infra/cdk/lambdas.ts`);
    return {
      name: `step-${step.name}`,
      entry: `functions/steps/${step.name}.ts`,
      description: `XOS reconcile step ${step.name}`,
      ...access,
      // Back-end calls get the time their retries need; the Task itself retries the rest.
      timeoutSeconds: access.backendFacing ? 60 : 30,
      memoryMb: 512,
      placeholder,
    };
  });
  return [
    {
      name: 'api',
      entry: 'functions/api/handler.ts',
      description: 'XOS REST API (API Gateway HTTP API, payload v2)',
      table: 'readWrite',
      startsExecutions: true,
      backendFacing: false,
      writesSecrets: true,
      timeoutSeconds: 29,
      memoryMb: 1024,
    },
    {
      name: 'dispatch',
      entry: 'functions/dispatch/handler.ts',
      description: 'XOS stream dispatcher: one reconcile execution per (object, version)',
      table: 'none',
      startsExecutions: true,
      backendFacing: false,
      timeoutSeconds: 60,
      memoryMb: 256,
    },
    {
      name: 'sweeper',
      entry: 'functions/sweeper/handler.ts',
      description: 'XOS sweeper: restarts due work, observes drift',
      table: 'readWrite',
      startsExecutions: true,
      backendFacing: true,
      timeoutSeconds: 300,
      memoryMb: 512,
    },
    ...steps,
  ];
}

/** esbuild options every function is bundled with (NodejsFunction and the bundle report). */
export const BUNDLE = {
  minify: true,
  sourceMap: false,
  target: 'node22',
  /** The nodejs22.x runtime ships AWS SDK v3: bundling it again would only grow the zip. */
  externalModules: ['@aws-sdk/*'],
} as const;
