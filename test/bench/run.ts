/**
 * `npm run bench`: the project's benchmarks (DESIGN section 11). Starts one DynamoDB Local (in
 * memory, free port), runs the selected parts against it, stops everything it started, writes the
 * results and prints a summary. Parts live in their own modules and return a results object; add
 * one by adding it to PARTS (and its block to docs/benchmarks.md).
 *
 *   npm run bench                  full run (about 2.5 minutes for the API part on 2 cores)
 *   npm run bench -- --quick       smoke test of the bench (short phases, results in a temp folder)
 *   npm run bench -- --parts api   only the named parts (comma separated)
 *   npm run bench -- --out DIR     write results to DIR (default: bench-results/, quick: a temp folder)
 *   npm run bench -- --no-docs     do not refresh the generated tables of docs/benchmarks.md
 *
 * Exit code: 0 when every part ran and every measured request succeeded; 1 otherwise (the results
 * are still written, marked not valid); 2 for a usage error; 130 when interrupted.
 */
import { existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../infra/local/dynamodb-local';
import { type ApiBenchResult, type BenchContext, runApiBench } from './api';
import { competingProcesses, gitInfo, machineInfo, REPO_ROOT, versions } from './env';
import { type OpenStackBenchResult, renderOpenStackMarkdown, runOpenStackBench } from './openstack';
import {
  type Noise,
  type PartOutcome,
  type ResultsFile,
  type RunInfo,
  refreshDoc,
  renderApiMarkdown,
  writeResults,
} from './report';
import { renderSyncMarkdown, runSyncBench, type SyncBenchResult } from './sync';

/** A benchmark part: runs, returns its results, says whether they are valid, renders its tables. */
interface Part<T> {
  run(ctx: BenchContext): Promise<T>;
  valid(result: T): boolean;
  markdown(outcome: PartOutcome<T>): string;
}

const apiPart: Part<ApiBenchResult> = {
  run: (ctx) => runApiBench(ctx),
  valid: (r) => r.valid,
  markdown: renderApiMarkdown,
};

const syncPart: Part<SyncBenchResult> = {
  run: (ctx) => runSyncBench(ctx),
  valid: (r) => r.valid,
  markdown: renderSyncMarkdown,
};

const openstackPart: Part<OpenStackBenchResult> = {
  run: (ctx) => runOpenStackBench(ctx),
  valid: (r) => r.valid,
  markdown: renderOpenStackMarkdown,
};

// biome-ignore lint/suspicious/noExplicitAny: parts differ in their result types
const PARTS: Record<string, Part<any>> = { api: apiPart, sync: syncPart, openstack: openstackPart };

interface Options {
  quick: boolean;
  parts: string[];
  out: string | undefined;
  docs: boolean;
}

function usage(): string {
  return [
    'usage: npm run bench -- [--quick] [--parts api,sync] [--out DIR] [--no-docs]',
    `parts: ${Object.keys(PARTS).join(', ')}`,
  ].join('\n');
}

function parseOptions(argv: string[]): Options {
  const options: Options = { quick: false, parts: Object.keys(PARTS), out: undefined, docs: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--no-docs') options.docs = false;
    else if (arg === '--parts' || arg === '--out') {
      const value = argv[++i];
      if (!value) throw new UsageError(`${arg} needs a value`);
      if (arg === '--out') options.out = value;
      else options.parts = value.split(',').filter(Boolean);
    } else if (arg === '--help' || arg === '-h') {
      console.log(usage());
      process.exit(0);
    } else throw new UsageError(`unknown argument ${arg}`);
  }
  const unknown = options.parts.filter((p) => !(p in PARTS));
  if (unknown.length > 0 || options.parts.length === 0) throw new UsageError(`unknown part(s): ${unknown.join(', ')}`);
  return options;
}

class UsageError extends Error {}

function noise(own: readonly number[]): Noise {
  return { load_average_1m: Math.round((loadavg()[0] ?? 0) * 100) / 100, competing_processes: competingProcesses(own) };
}

/** Whether a process still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n${usage()}`);
    return 2;
  }
  const started = Date.now();
  const log = (line: string) =>
    console.log(`[bench ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const run: RunInfo = {
    date: new Date().toISOString(),
    mode: options.quick ? 'quick' : 'full',
    git: gitInfo(REPO_ROOT),
    machine: machineInfo(),
    versions: versions(),
    noise_at_start: noise([]),
  };
  if (
    run.noise_at_start.competing_processes.length > 0 ||
    run.noise_at_start.load_average_1m > run.machine.cpu_count / 2
  ) {
    log(
      `warning: the machine is busy (load ${run.noise_at_start.load_average_1m}; ${run.noise_at_start.competing_processes.join(', ') || 'no known competitors'}): numbers will be noisy`,
    );
  }
  log(`${run.mode} run of ${options.parts.join(', ')} at ${run.git.commit}${run.git.dirty ? ' (dirty tree)' : ''}`);

  // Everything started is registered here and stopped at the end, on failure and on Ctrl-C.
  const cleanups: Array<() => Promise<void>> = [];
  const pids: Array<{ label: string; pid: number }> = [];
  const cleanup = async () => {
    while (cleanups.length > 0) {
      const fn = cleanups.pop() as () => Promise<void>;
      try {
        await fn();
      } catch (err) {
        console.error(`cleanup failed: ${(err as Error).message}`);
      }
    }
  };
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping what the bench started`);
    void cleanup().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const parts: Record<string, PartOutcome<unknown>> = {};
  let allOk = true;
  try {
    log('starting DynamoDB Local (in memory)');
    const ddb: DynamoDbLocal = await startDynamoDbLocal();
    cleanups.push(() => ddb.stop());
    if (ddb.pid !== undefined) pids.push({ label: 'DynamoDB Local (java)', pid: ddb.pid });
    const ctx: BenchContext = {
      quick: options.quick,
      dynamodb: { endpoint: ddb.endpoint, pid: ddb.pid },
      log,
      defer: (fn) => {
        cleanups.push(fn);
      },
      trackProcess: (label, pid) => {
        pids.push({ label, pid });
      },
    };
    for (const name of options.parts) {
      const part = PARTS[name] as Part<unknown>;
      try {
        const result = await part.run(ctx);
        parts[name] = { run, ok: true, result };
        if (!part.valid(result)) allOk = false;
      } catch (err) {
        allOk = false;
        const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
        console.error(`part ${name} failed: ${message}`);
        parts[name] = { run, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }
  } catch (err) {
    allOk = false;
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  } finally {
    await cleanup();
  }
  if (interrupted) return 130;

  const stray = pids.filter((p) => alive(p.pid)).map((p) => `${p.label} pid ${p.pid}`);
  if (stray.length > 0) {
    allOk = false;
    console.error(`processes still running after cleanup: ${stray.join(', ')}`);
  }
  if (Object.keys(parts).length === 0) return 1;

  const results: ResultsFile = {
    schema: 1,
    ...run,
    total_runtime_s: Math.round((Date.now() - started) / 100) / 10,
    cleanup: { stray_processes: stray },
    noise_at_end: noise(pids.map((p) => p.pid)),
    parts,
  };
  const outDir =
    options.out ?? (options.quick ? join(tmpdir(), 'xos-bench-results') : join(REPO_ROOT, 'bench-results'));
  const written = writeResults(outDir, results, true);
  const docPath = join(REPO_ROOT, 'docs', 'benchmarks.md');
  for (const [name, outcome] of Object.entries(parts)) {
    const markdown = (PARTS[name] as Part<unknown>).markdown(outcome);
    console.log(`\n## ${name}\n\n${markdown}\n`);
    // Quick runs never touch the documented numbers.
    if (options.docs && !options.quick && existsSync(docPath) && refreshDoc(docPath, name, markdown)) {
      written.push(`${docPath} (${name} block)`);
    }
  }
  log(`wrote ${written.join(', ')}`);
  log(
    `${allOk ? 'done' : 'FAILED: see the errors above; the results are marked not valid'} in ${results.total_runtime_s} s`,
  );
  return allOk ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
