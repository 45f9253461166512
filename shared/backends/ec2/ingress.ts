/**
 * Security-group ingress from a slice's `exposed_ports` ("tcp 22, udp 53, tcp 8000-8080, icmp"):
 * each exposed port is opened to the world (0.0.0.0/0); the slice's own instances additionally
 * reach each other on every protocol through a rule referencing the group itself, as OpenStack's
 * default security group allowed. Only these two shapes are managed; anything else an operator
 * adds by hand is revoked on the next update.
 */
import { TerminalBackendError } from '../../errors';
import type { IngressRule } from './api';

/** Where exposed ports are reachable from. */
export const WORLD = '0.0.0.0/0';

const PROTOCOLS = new Set(['tcp', 'udp', 'icmp']);

/** Parse `exposed_ports`; a malformed entry is a terminal error naming it. */
export function parseExposedPorts(spec: string | null | undefined): IngressRule[] {
  const rules: IngressRule[] = [];
  for (const raw of (spec ?? '').split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    const m = /^(tcp|udp|icmp)(?:\s+(\d{1,5})(?:\s*-\s*(\d{1,5}))?)?$/.exec(entry);
    const protocol = m?.[1];
    if (!m || !protocol || !PROTOCOLS.has(protocol))
      throw new TerminalBackendError(`exposed_ports: cannot read "${raw.trim()}" (expected e.g. "tcp 22, udp 53")`);
    if (protocol === 'icmp') {
      rules.push({ protocol, fromPort: -1, toPort: -1, cidrs: [WORLD], groups: [] });
      continue;
    }
    if (m[2] === undefined) throw new TerminalBackendError(`exposed_ports: "${raw.trim()}" needs a port`);
    const from = Number(m[2]);
    const to = m[3] === undefined ? from : Number(m[3]);
    if (from < 0 || to > 65535 || from > to)
      throw new TerminalBackendError(`exposed_ports: "${raw.trim()}" is not a valid port range`);
    rules.push({ protocol, fromPort: from, toPort: to, cidrs: [WORLD], groups: [] });
  }
  return rules;
}

/** The group's desired ingress: exposed ports from anywhere, everything from the group itself. */
export function desiredIngress(exposedPorts: string | null | undefined, groupId: string): IngressRule[] {
  return [...parseExposedPorts(exposedPorts), { protocol: '-1', cidrs: [], groups: [groupId] }];
}

/** One key per (protocol, range, single source), so rules compare regardless of how EC2 groups them. */
function keys(rule: IngressRule): string[] {
  const all = rule.protocol === '-1';
  const range = all ? '' : `${rule.fromPort ?? -1}:${rule.toPort ?? -1}`;
  return [
    ...rule.cidrs.map((c) => `${rule.protocol}|${range}|cidr|${c}`),
    ...rule.groups.map((g) => `${rule.protocol}|${range}|group|${g}`),
  ];
}

function fromKey(key: string): IngressRule {
  const [protocol = '-1', range = '', type, source = ''] = key.split('|');
  const [from, to] = range === '' ? [undefined, undefined] : range.split(':').map(Number);
  return {
    protocol,
    fromPort: from,
    toPort: to,
    cidrs: type === 'cidr' ? [source] : [],
    groups: type === 'group' ? [source] : [],
  };
}

/** What to authorize and what to revoke to go from `actual` to `desired`. */
export function ingressDiff(
  actual: readonly IngressRule[],
  desired: readonly IngressRule[],
): { authorize: IngressRule[]; revoke: IngressRule[] } {
  const have = new Set(actual.flatMap(keys));
  const want = new Set(desired.flatMap(keys));
  return {
    authorize: [...want].filter((k) => !have.has(k)).map(fromKey),
    revoke: [...have].filter((k) => !want.has(k)).map(fromKey),
  };
}
