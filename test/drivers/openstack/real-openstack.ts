/**
 * The harness of the real-OpenStack tier: decides (synchronously, at test registration) whether a
 * real OpenStack can run here, and shares one between the test files of a jest run. A cloud already
 * answering on 127.0.0.1:5000 is used as is and never stopped; otherwise the first file starts one
 * with bin/openstack/up.sh (state in a temp folder) and the last file to finish stops it. When
 * OpenStack cannot run (packages missing and not installable, or XOS_SKIP_REAL_OPENSTACK set),
 * the tier is skipped LOUDLY: a console.warn with the reason, and the tests are reported skipped.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ContractTarget } from './contract';

const ROOT = join(__dirname, '..', '..', '..');
const STATE = join(tmpdir(), 'xos-openstack-tests');
const BASE = join(tmpdir(), 'xos-openstack');
const LOCK = join(STATE, 'lock');
const USERS = join(STATE, 'users');
const MARKER = join(STATE, 'started-by-tests');
const KEYSTONE = 'http://127.0.0.1:5000/v3';

/** The credentials bin/openstack/up.sh bootstraps. */
export const REAL_OPENSTACK = {
  authUrl: KEYSTONE,
  adminUser: 'admin',
  adminPassword: process.env.OS_ADMIN_PASSWORD ?? 's3cret',
  adminProject: 'admin',
  domain: 'default',
  region: 'RegionOne',
} as const;

function answering(): boolean {
  try {
    execFileSync('curl', ['-s', '-o', '/dev/null', '--max-time', '3', KEYSTONE], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function packagesPresent(): boolean {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import keystone, nova, neutron, glance, placement'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the real tier cannot run here, or undefined when it can. Warns loudly when it cannot. */
export function realOpenStackUnavailable(tier: string): string | undefined {
  let reason: string | undefined;
  if (process.env.XOS_SKIP_REAL_OPENSTACK) reason = 'XOS_SKIP_REAL_OPENSTACK is set';
  else if (!answering() && !packagesPresent())
    reason =
      'the OpenStack Debian packages are not installed (bin/openstack/install.sh installs them; it needs root or sudo and a Debian mirror)';
  if (reason) console.warn(`\n*** SKIPPED: ${tier} against a REAL OpenStack: ${reason}. ***\n`);
  return reason;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(STATE, { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock older than 10 minutes belongs to a crashed run.
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 10 * 60_000)
        rmSync(LOCK, { recursive: true, force: true });
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

function run(script: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [join(ROOT, 'bin', 'openstack', script)], {
      env: { ...process.env, BASE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += String(d);
    });
    child.stderr.on('data', (d) => {
      out += String(d);
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`bin/openstack/${script} exited ${code}:\n${out.slice(-3000)}`));
    });
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A real OpenStack for one test file, and how to let go of it. */
export interface RealOpenStack {
  readonly target: Omit<ContractTarget, 'label' | 'buildTimeoutMs'>;
  /** Seconds it took to start (0 when one was already running). */
  readonly startedInS: number;
  release(): Promise<void>;
}

/** Use the running OpenStack or start one; the last user to release stops what the tests started. */
export async function acquireRealOpenStack(): Promise<RealOpenStack> {
  const me = join(USERS, `${process.pid}-${Math.random().toString(36).slice(2)}`);
  const started = Date.now();
  let startedInS = 0;
  await withLock(async () => {
    mkdirSync(USERS, { recursive: true });
    writeFileSync(me, '');
    if (!answering()) {
      await run('up.sh', 10 * 60_000);
      writeFileSync(MARKER, String(Date.now()));
      startedInS = Math.round((Date.now() - started) / 100) / 10;
    }
  });
  return {
    target: REAL_OPENSTACK,
    startedInS,
    async release() {
      await withLock(async () => {
        rmSync(me, { force: true });
        const others = readdirSync(USERS).filter((f) => alive(Number(f.split('-')[0])));
        if (others.length === 0 && existsSync(MARKER) && !process.env.XOS_KEEP_OPENSTACK) {
          await run('down.sh', 120_000);
          rmSync(MARKER, { force: true });
        }
      });
    },
  };
}
