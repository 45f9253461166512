/**
 * Results on disk and on screen: the dated JSON file, bench-results/latest.json (each part
 * refreshed by its latest run, other parts kept), the console summary and the generated tables
 * of docs/benchmarks.md (between `<!-- bench:PART:start -->` and `<!-- bench:PART:end -->`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiBenchResult } from './api';
import type { GitInfo, MachineInfo, Versions } from './env';
import type { PhaseResult } from './load';

/** When, where and how a run happened. */
export interface RunInfo {
  readonly date: string;
  readonly mode: 'full' | 'quick';
  readonly git: GitInfo;
  readonly machine: MachineInfo;
  readonly versions: Versions;
  /** How busy the machine was when the run started: other work makes the numbers noisy. */
  readonly noise_at_start: Noise;
}

/** The 1-minute load average and the competing processes (other DynamoDB Locals, jest, tsc). */
export interface Noise {
  readonly load_average_1m: number;
  readonly competing_processes: string[];
}

/** One part's outcome: its results, or why it failed. */
export type PartOutcome<T> = { readonly run: RunInfo } & (
  | { readonly ok: true; readonly result: T }
  | { readonly ok: false; readonly error: string }
);

/** The results file. */
export interface ResultsFile extends RunInfo {
  readonly schema: 1;
  readonly total_runtime_s: number;
  /** Processes the run started, checked gone after cleanup. */
  readonly cleanup: { readonly stray_processes: string[] };
  readonly noise_at_end: Noise;
  readonly parts: Record<string, PartOutcome<unknown>>;
}

/** Write `<date>-<commit>.json` in `dir`, and merge into latest.json when asked. Returns the paths written. */
export function writeResults(dir: string, results: ResultsFile, updateLatest: boolean): string[] {
  mkdirSync(dir, { recursive: true });
  const day = results.date.slice(0, 10);
  const dated = join(dir, `${day}-${results.git.commit}.json`);
  const written = [dated];
  writeFileSync(dated, `${JSON.stringify(results, null, 2)}\n`);
  if (updateLatest) {
    const latestPath = join(dir, 'latest.json');
    let previous: Partial<ResultsFile> = {};
    if (existsSync(latestPath)) {
      try {
        previous = JSON.parse(readFileSync(latestPath, 'utf8')) as ResultsFile;
      } catch {
        previous = {};
      }
    }
    const latest: ResultsFile = { ...results, parts: { ...(previous.parts ?? {}), ...results.parts } };
    writeFileSync(latestPath, `${JSON.stringify(latest, null, 2)}\n`);
    written.push(latestPath);
  }
  return written;
}

/** Replace the generated block of `part` in a markdown file; false when its markers are missing. */
export function refreshDoc(path: string, part: string, markdown: string): boolean {
  if (!existsSync(path)) return false;
  const text = readFileSync(path, 'utf8');
  const start = `<!-- bench:${part}:start -->`;
  const end = `<!-- bench:${part}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i < 0 || j < i) return false;
  writeFileSync(path, `${text.slice(0, i + start.length)}\n${markdown.trimEnd()}\n${text.slice(j)}`);
  return true;
}

const f = (n: number, digits = 1) => n.toFixed(digits);

/** "2 x jest, DynamoDB Local" from a list of process names; "none" when empty. */
function summarize(names: readonly string[]): string {
  if (names.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([n, c]) => (c > 1 ? `${c} x ${n}` : n)).join(', ');
}

function phaseRow(label: string, p: PhaseResult, extra: string[]): string {
  const errors = p.errors.failed + p.errors.transport;
  return `| ${label} | ${f(p.rps, 0)} | ${f(p.latency.p50_ms, 2)} | ${f(p.latency.p99_ms, 2)} | ${p.ok} | ${errors} | ${extra.join(' | ')} |`;
}

function calls(c: { total: number; by_operation: Record<string, number> }): string {
  const parts = Object.entries(c.by_operation)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `${n} ${op}`);
  return `${c.total} (${parts.join(', ') || 'none'})`;
}

/** The markdown tables of an API part outcome (docs/benchmarks.md and the console). */
export function renderApiMarkdown(outcome: PartOutcome<ApiBenchResult>): string {
  const { run } = outcome;
  const lines: string[] = [];
  lines.push(
    `Run ${run.date} (${run.mode}), commit \`${run.git.commit}\`${run.git.dirty ? ' (working tree dirty)' : ''}; ` +
      `${run.machine.cpu_count} x ${run.machine.cpu_model}, ${Math.round(run.machine.total_memory_mb / 1024)} GiB, ` +
      `${run.machine.platform} ${run.machine.arch}; node ${run.versions.node}; ${run.versions.java.split(' | ')[0]}; ` +
      `${run.versions.dynamodb_local}.`,
    '',
  );
  if (!outcome.ok) {
    lines.push(`**The API benchmark failed:** ${outcome.error}`);
    return lines.join('\n');
  }
  const r = outcome.result;
  if (!r.valid) {
    lines.push('**This run is not valid** (errors below); its numbers must not be used.', '');
    for (const p of r.problems) lines.push(`- ${p}`);
    lines.push('');
  }
  if (r.warnings.length > 0) {
    for (const w of r.warnings)
      lines.push(`**Noisy run:** ${w}; rates and latencies understate what the code can do.`, '');
  }
  const c = r.config;
  lines.push(
    `${c.connections} concurrent clients, ${c.warmup_s} s warm-up then ${c.duration_s} s measured per row; ` +
      `fixtures: ${c.slices} slices over ${c.sites} sites (${Math.ceil(c.slices / c.sites)} per site), list page ${c.list_limit}.`,
    '',
    '| operation | req/s | p50 ms | p99 ms | requests | errors | raw DynamoDB counterpart | api/raw req/s | api/raw p50 | DynamoDB calls per request |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |',
  );
  const raw = (p: PhaseResult) => `${p.name}: ${f(p.rps, 0)} req/s, p50 ${f(p.latency.p50_ms, 2)} ms`;
  lines.push(
    phaseRow('create slice (POST)', r.api.create, [
      raw(r.raw.put_item),
      f(r.ratios.create_vs_put_item?.rps ?? 0, 3),
      f(r.ratios.create_vs_put_item?.p50 ?? 0, 2),
      calls(r.ddb_calls_per_request.create),
    ]),
    phaseRow('get slice by id', r.api.get, [
      raw(r.raw.get_item),
      f(r.ratios.get_vs_get_item?.rps ?? 0, 3),
      f(r.ratios.get_vs_get_item?.p50 ?? 0, 2),
      calls(r.ddb_calls_per_request.get),
    ]),
    phaseRow(`list slices ?site_id= (limit ${c.list_limit})`, r.api.list, [
      raw(r.raw.query),
      f(r.ratios.list_vs_query?.rps ?? 0, 3),
      f(r.ratios.list_vs_query?.p50 ?? 0, 2),
      calls(r.ddb_calls_per_request.list),
    ]),
  );
  const seq = r.raw.create_sequence;
  lines.push(
    '',
    `Create against the same DynamoDB work issued directly (${Object.entries(seq.calls)
      .map(([k, v]) => `${v} x ${k}`)
      .join(' + ')} per create): ${f(seq.rps, 0)} req/s, p50 ${f(seq.latency.p50_ms, 2)} ms, ` +
      `p99 ${f(seq.latency.p99_ms, 2)} ms; api/raw req/s ${f(r.ratios.create_vs_create_sequence?.rps ?? 0, 3)}, ` +
      `p50 ${f(r.ratios.create_vs_create_sequence?.p50 ?? 0, 2)}.`,
  );
  const cpu = (p: PhaseResult, k: string) => {
    const v = p.cpu_ms_per_request?.[k];
    return v === undefined ? '-' : f(v, 2);
  };
  lines.push(
    '',
    'Every phase, with the CPU time each process spent per completed request (the API process figure is the',
    "API's own cost, independent of how fast DynamoDB Local is) and the machine's 1-minute load average:",
    '',
    '| phase | req/s | p50 ms | p99 ms | CPU ms/req: API process | DynamoDB Local | load generator | load avg before / after | other work seen |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  );
  for (const p of [
    r.api.get,
    r.raw.get_item,
    r.api.list,
    r.raw.query,
    r.api.create,
    r.raw.put_item,
    r.raw.create_sequence,
  ]) {
    lines.push(
      `| ${p.name} | ${f(p.rps, 0)} | ${f(p.latency.p50_ms, 2)} | ${f(p.latency.p99_ms, 2)} | ` +
        `${p.name.startsWith('api') ? cpu(p, 'api_process') : '-'} | ${cpu(p, 'dynamodb_local')} | ${cpu(p, 'load_generator')} | ` +
        `${f(p.load_average.before, 2)} / ${f(p.load_average.after, 2)} | ${summarize(p.competing_processes ?? [])} |`,
    );
  }
  const competing = run.noise_at_start.competing_processes;
  lines.push(
    '',
    `Memory after the run: API process RSS ${f(r.memory.api_process_after_run.rss_mb)} MiB, heap used ` +
      `${f(r.memory.api_process_after_run.heap_used_mb)} MiB (after fixtures: ${f(r.memory.api_process_after_fixtures.rss_mb)} / ` +
      `${f(r.memory.api_process_after_fixtures.heap_used_mb)} MiB); DynamoDB Local RSS ${r.memory.dynamodb_local_rss_mb ?? '?'} MiB. ` +
      `Part runtime ${f(r.timings_s.total, 0)} s (setup ${f(r.timings_s.setup, 0)}, fixtures and call counts ${f(r.timings_s.fixtures, 0)}, ` +
      `measurement ${f(r.timings_s.measure, 0)}). Machine at start: load ${f(run.noise_at_start.load_average_1m, 2)}` +
      `${competing.length > 0 ? `, other processes competing: ${summarize(competing)}` : ', no competing DynamoDB Local/jest/tsc'}.`,
  );
  return lines.join('\n');
}
