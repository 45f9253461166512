/**
 * Bundle size report: builds every Lambda entry with the stack's esbuild options (lambdas.ts
 * BUNDLE; the same as NodejsFunction's), reads the metafile, and reports each bundle's minified and
 * gzipped size against the budget, with the packages that dominate it. Writes
 * bench-results/bundles-latest.json and the table between the markers in docs/deploy.md.
 *
 * Usage: npm run bundle-report [-- --no-docs]
 */
import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { BUNDLE, lambdaSpecs } from './lambdas';

/** Budget per bundle (minified, unzipped). */
export const BUDGET_BYTES = 300 * 1024;

const ROOT = join(__dirname, '..', '..');
const START = '<!-- bundle-report:start -->';
const END = '<!-- bundle-report:end -->';

/** One bundle's measurements. */
export interface BundleSize {
  readonly function: string;
  readonly entry: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly overBudget: boolean;
  /** Largest contributors, by package (or project folder), bytes in the output. */
  readonly top: ReadonlyArray<{ readonly module: string; readonly bytes: number }>;
}

/** The package (node_modules/<pkg> or @scope/pkg) or project folder an input belongs to. */
export function moduleOf(input: string): string {
  const i = input.lastIndexOf('node_modules/');
  if (i >= 0) {
    const parts = input.slice(i + 'node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] as string);
  }
  const parts = input.split('/');
  return parts.length > 2 ? `${parts[0]}/${parts[1]}/` : input;
}

/** Sum a metafile's output bytes by module. */
export function contributors(meta: Metafile): Array<{ module: string; bytes: number }> {
  const by = new Map<string, number>();
  for (const output of Object.values(meta.outputs))
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs))
      by.set(moduleOf(input), (by.get(moduleOf(input)) ?? 0) + bytesInOutput);
  return [...by.entries()].map(([module, bytes]) => ({ module, bytes })).sort((a, b) => b.bytes - a.bytes);
}

async function measure(): Promise<BundleSize[]> {
  const out: BundleSize[] = [];
  for (const spec of lambdaSpecs()) {
    const result = await build({
      entryPoints: [join(ROOT, spec.entry)],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: BUNDLE.target,
      minify: BUNDLE.minify,
      sourcemap: BUNDLE.sourceMap,
      external: [...BUNDLE.externalModules],
      metafile: true,
      write: false,
      outfile: join(ROOT, 'cdk.out', 'bundle-report', `${spec.name}.js`),
      absWorkingDir: ROOT,
      logLevel: 'error',
    });
    const code = result.outputFiles.find((f) => f.path.endsWith('.js'));
    if (!code) throw new Error(`no output for ${spec.entry}`);
    out.push({
      function: spec.name,
      entry: spec.entry,
      bytes: code.contents.byteLength,
      gzipBytes: gzipSync(code.contents).byteLength,
      overBudget: code.contents.byteLength > BUDGET_BYTES,
      top: contributors(result.metafile).slice(0, 3),
    });
  }
  return out;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** The markdown table of a report. */
export function markdownTable(sizes: readonly BundleSize[]): string {
  const rows = sizes.map((s) => {
    const top = s.top.map((t) => `${t.module} ${kib(t.bytes)}`).join(', ');
    return `| ${s.function} | ${kib(s.bytes)} | ${kib(s.gzipBytes)} | ${s.overBudget ? '**over**' : 'ok'} | ${top} |`;
  });
  return [
    `| Function | Minified | Gzipped | Budget ${kib(BUDGET_BYTES)} | Largest contributors |`,
    '|---|---:|---:|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const sizes = await measure();
  const commit = execSync('git rev-parse --short HEAD', { cwd: ROOT }).toString().trim();
  const dirty = execSync('git status --porcelain -- shared functions', { cwd: ROOT }).toString().trim() !== '';
  const report = {
    date: new Date().toISOString(),
    commit,
    workingTreeChanged: dirty,
    budgetBytes: BUDGET_BYTES,
    options: BUNDLE,
    bundles: sizes,
  };
  const file = join(ROOT, 'bench-results', 'bundles-latest.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  const table = markdownTable(sizes);
  console.log(table);
  console.log(`\nwritten ${relative(ROOT, file)}`);
  if (!process.argv.includes('--no-docs')) {
    const docs = join(ROOT, 'docs', 'deploy.md');
    const text = readFileSync(docs, 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a < 0 || b < a) throw new Error(`docs/deploy.md has no ${START} ... ${END} section`);
    const stamp = `Measured ${report.date.slice(0, 10)} at ${commit}${dirty ? ' (with uncommitted changes)' : ''}.`;
    writeFileSync(docs, `${text.slice(0, a + START.length)}\n${stamp}\n\n${table}\n${text.slice(b)}`);
    console.log('updated docs/deploy.md');
  }
}

if (require.main === module)
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
