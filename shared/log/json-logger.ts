/**
 * A structured JSON logger writing one line per event to stdout (CloudWatch in AWS). Keys that
 * look like secrets are redacted before anything is written.
 */
import type { Logger } from '../api/errors';

const SECRET_KEY = /pass(word)?|secret|token|authorization|credential/i;

/** Deep-copy `value`, replacing the values of secret-looking keys. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

/** A logger for a named service; `write` is injectable for tests. */
export function jsonLogger(
  service: string,
  write: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Logger {
  const emit = (level: string, message: string, detail: Record<string, unknown>) =>
    write(JSON.stringify({ level, time: new Date().toISOString(), service, message, ...(redact(detail) as object) }));
  return {
    error: (message, detail) => emit('ERROR', message, detail),
    info: (message, detail) => emit('INFO', message, detail),
  };
}
