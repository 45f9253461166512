/**
 * moto_server for the EC2 tests: started on a free 127.0.0.1 port, stopped (by its own pid) after.
 * Where moto_server is not installed, the caller skips LOUDLY (console.warn), never silently.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { freePort } from '../../../infra/local/dynamodb-local';

/** A running moto_server. */
export interface MotoServer {
  readonly endpoint: string;
  /** Wipe all state (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether moto_server is on the PATH. */
export function motoAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' }).status === 0;
}

/** Say loudly that the moto tier is skipped, and why. */
export function warnMotoMissing(what: string): void {
  console.warn(
    `\n!!! SKIPPED: ${what} needs moto_server (pip install 'moto[server]'); it is not on the PATH here. !!!\n`,
  );
}

/** Start moto_server and wait until it answers. */
export async function startMoto(timeoutMs = 15_000): Promise<MotoServer> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server did not start on ${endpoint}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    async reset() {
      await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
      }),
  };
}
