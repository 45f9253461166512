/**
 * Load generation and statistics shared by every benchmark part: a fixed-concurrency HTTP load
 * (autocannon, a fresh request per send), a fixed-concurrency loop over any async operation (raw
 * SDK calls), a bounded worker pool for fixtures, and the one latency summary both use, so API
 * and raw figures are computed the same way.
 *
 * Both drivers count only completions inside the measurement window [start, start + duration]:
 * requests still in flight when it closes are neither counted nor timed.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import autocannon, { type AutocannonRequest } from 'autocannon';

/** Latency percentiles of the successful requests of a phase, in milliseconds. */
export interface LatencyStats {
  readonly samples: number;
  readonly mean_ms: number;
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
}

/** What went wrong in a phase; all zero in a valid run. */
export interface PhaseErrors {
  /** Responses outside 2xx (HTTP) or rejected calls (SDK), inside the window. */
  readonly failed: number;
  /** Failed responses by HTTP status or SDK error name. */
  readonly by_status: Record<string, number>;
  /** Connection errors and timeouts (HTTP) inside the measured run. */
  readonly transport: number;
  /** A few failure messages, for the report. */
  readonly samples: string[];
}

/** One measured phase: one operation at one concurrency for one duration. */
export interface PhaseResult {
  readonly name: string;
  readonly connections: number;
  readonly duration_s: number;
  readonly warmup_s: number;
  /** Successful completions inside the window. */
  readonly ok: number;
  /** Successful completions per second. */
  readonly rps: number;
  readonly latency: LatencyStats;
  readonly errors: PhaseErrors;
  readonly valid: boolean;
  /** CPU milliseconds per completed request, by process, when the caller measured them. */
  readonly cpu_ms_per_request?: Record<string, number>;
  /** 1-minute load average of the machine before and after the phase (other work skews results). */
  readonly load_average: { readonly before: number; readonly after: number };
  /** Processes of other work seen at the end of the phase (see MeasureHooks.competing). */
  readonly competing_processes?: string[];
}

/** Called around the measured run (not the warm-up); `finish` gets every completion of the run. */
export interface MeasureHooks {
  begin(): Promise<void>;
  finish(completions: number): Promise<Record<string, number> | undefined>;
  /** Other work running on the machine (named processes), checked at the end of the phase. */
  competing?(): string[];
}

/** Collects completions of one phase. */
class Recorder {
  private latencies = new Float64Array(1 << 14);
  private n = 0;
  failed = 0;
  transport = 0;
  /** Every completion of the measured run, inside the window or not (CPU per request divides by it). */
  completions = 0;
  readonly byStatus: Record<string, number> = {};
  readonly samples: string[] = [];

  ok(ms: number): void {
    if (this.n === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.n++] = ms;
  }

  fail(status: string, message?: string): void {
    this.failed++;
    this.byStatus[status] = (this.byStatus[status] ?? 0) + 1;
    if (message && this.samples.length < 5) this.samples.push(message);
  }

  result(
    name: string,
    connections: number,
    durationS: number,
    warmupS: number,
    loadBefore: number,
    cpu: Record<string, number> | undefined,
    competing: string[] | undefined,
  ): PhaseResult {
    const okCount = this.n;
    return {
      name,
      connections,
      duration_s: durationS,
      warmup_s: warmupS,
      ok: okCount,
      rps: round(okCount / durationS, 1),
      latency: latencyStats(this.latencies.subarray(0, okCount)),
      errors: { failed: this.failed, by_status: this.byStatus, transport: this.transport, samples: this.samples },
      valid: this.failed === 0 && this.transport === 0 && okCount > 0,
      ...(cpu ? { cpu_ms_per_request: cpu } : {}),
      load_average: { before: round(loadBefore, 2), after: round(os.loadavg()[0] ?? 0, 2) },
      ...(competing ? { competing_processes: competing } : {}),
    };
  }
}

/** Percentiles (nearest rank) of a set of latencies. */
export function latencyStats(values: Float64Array): LatencyStats {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { samples: 0, mean_ms: 0, p50_ms: 0, p90_ms: 0, p99_ms: 0, max_ms: 0 };
  const at = (p: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] as number;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    samples: n,
    mean_ms: round(sum / n, 2),
    p50_ms: round(at(0.5), 2),
    p90_ms: round(at(0.9), 2),
    p99_ms: round(at(0.99), 2),
    max_ms: round(sorted[n - 1] as number, 2),
  };
}

/** One HTTP request as the load generator sends it. */
export interface HttpRequestSpec {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
}

/**
 * HTTP load at a fixed number of keep-alive connections, each sending its next request as soon as
 * the previous response arrived; `next` builds every request (unique bodies, random ids).
 */
export async function httpLoad(options: {
  name: string;
  url: string;
  headers: Record<string, string>;
  connections: number;
  warmupS: number;
  durationS: number;
  next: () => HttpRequestSpec;
  hooks?: MeasureHooks;
}): Promise<PhaseResult> {
  const { url, headers, connections, next } = options;
  const requests: AutocannonRequest[] = [
    {
      setupRequest: (req) => {
        const spec = next();
        return { ...req, method: spec.method, path: spec.path, body: spec.body ?? '', headers };
      },
    },
  ];
  const run = async (durationS: number, recorder: Recorder | undefined) => {
    // sampleInt: autocannon checks for the end of the run at each sample; 100 ms keeps the overrun short.
    const instance = autocannon({
      url,
      connections,
      duration: durationS,
      timeout: 30,
      requests,
      excludeErrorStats: false,
      sampleInt: 100,
    });
    const start = performance.now();
    const end = start + durationS * 1000;
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (!recorder) return;
      recorder.completions++;
      if (performance.now() > end) return;
      if (statusCode >= 200 && statusCode < 300) recorder.ok(responseTime);
      else recorder.fail(String(statusCode), `HTTP ${statusCode}`);
    });
    instance.on('reqError', (err: Error) => {
      if (!recorder) return;
      recorder.transport++;
      if (recorder.samples.length < 5) recorder.samples.push(`request error: ${err.message}`);
    });
    // Timeouts are reported through reqError too.
    await instance;
  };
  if (options.warmupS > 0) await run(options.warmupS, undefined);
  return measured(options, (recorder) => run(options.durationS, recorder));
}

async function measured(
  options: { name: string; connections: number; warmupS: number; durationS: number; hooks?: MeasureHooks },
  run: (recorder: Recorder) => Promise<void>,
): Promise<PhaseResult> {
  const recorder = new Recorder();
  const loadBefore = os.loadavg()[0] ?? 0;
  await options.hooks?.begin();
  await run(recorder);
  const cpu = await options.hooks?.finish(recorder.completions);
  const competing = options.hooks?.competing?.();
  return recorder.result(
    options.name,
    options.connections,
    options.durationS,
    options.warmupS,
    loadBefore,
    cpu,
    competing,
  );
}

/**
 * `connections` concurrent loops, each awaiting `op` then calling it again, for the duration.
 * A rejected call is a failure, recorded under the error's name.
 */
export async function loopLoad(options: {
  name: string;
  connections: number;
  warmupS: number;
  durationS: number;
  op: () => Promise<unknown>;
  hooks?: MeasureHooks;
}): Promise<PhaseResult> {
  const run = async (durationS: number, recorder: Recorder | undefined) => {
    const end = performance.now() + durationS * 1000;
    const worker = async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await options.op();
          const t1 = performance.now();
          if (recorder) recorder.completions++;
          if (recorder && t1 <= end) recorder.ok(t1 - t0);
        } catch (err) {
          if (recorder) recorder.completions++;
          if (recorder && performance.now() <= end) {
            const e = err as Error;
            recorder.fail(e?.name ?? 'Error', `${e?.name}: ${e?.message}`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: options.connections }, worker));
  };
  if (options.warmupS > 0) await run(options.warmupS, undefined);
  return measured(options, (recorder) => run(options.durationS, recorder));
}

/** Run `fn(0..n-1)` with at most `concurrency` in flight; results in index order. */
export async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(n);
  let nextIndex = 0;
  const worker = async () => {
    for (;;) {
      const i = nextIndex++;
      if (i >= n) return;
      out[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return out;
}

/** Round to `digits` decimals. */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
