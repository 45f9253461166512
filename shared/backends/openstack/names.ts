/**
 * Pure mapping rules of the OpenStack driver: deterministic resource names derived from XOS ids
 * (what find-before-create searches for, so a retry after a crash never duplicates), the Keystone
 * role a privilege maps to, the subnet a network gets when it names none (XOS's
 * `10.<hi>.<lo>.0/24`), and the cloud-config user data carrying the slice members' keys.
 */

/** Prefix of every resource the driver creates (and the only ones it ever deletes by name). */
export const NAME_PREFIX = 'xos';

/** Deterministic OpenStack name of the resource standing for an XOS object. */
export function resourceName(
  what: 'site' | 'slice' | 'user' | 'net' | 'router' | 'image' | 'instance' | 'port',
  id: string,
): string {
  return `${NAME_PREFIX}-${what}-${id.toLowerCase()}`;
}

/** Keystone role of an XOS privilege permission ("role:admin", "admin", "access", "all" ...). */
export function roleOf(permission: unknown): 'admin' | 'member' | 'reader' {
  const p = String(permission ?? '')
    .replace(/^role:/, '')
    .toLowerCase();
  if (p === 'admin' || p === 'pi' || p === 'tech') return 'admin';
  if (p === 'reader' || p === 'readonly' || p === 'read') return 'reader';
  return 'member';
}

/** A /24 for a network without a subnet: derived from its id, stable across retries. */
export function defaultSubnet(networkId: string): string {
  let h = 2166136261;
  for (const ch of networkId) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const n = h % 65536;
  return `10.${n >> 8}.${n & 0xff}.0/24`;
}

/** Gateway (.1) and allocation pool (.2 - .254, or the network's own bounds) of an IPv4 /24-style CIDR. */
export function addressPlan(
  cidr: string,
  startIp?: unknown,
  endIp?: unknown,
): { gateway: string; start: string; end: string } {
  const [addr = '', bitsText = '24'] = cidr.split('/');
  const octets = addr.split('.').map(Number);
  const base = ((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0);
  const size = 2 ** (32 - Number(bitsText));
  const ip = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
  return {
    gateway: ip(base + 1),
    start: typeof startIp === 'string' && startIp ? startIp : ip(base + 2),
    end: typeof endIp === 'string' && endIp ? endIp : ip(base + size - 2),
  };
}

/** Cloud-config user data: hostname, the members' SSH keys, then the instance's own user data. */
export function cloudConfig(hostname: string, publicKeys: readonly string[], extra?: unknown): string {
  const keys = [...new Set(publicKeys.map((k) => k.trim()).filter(Boolean))];
  const lines = ['#cloud-config', `hostname: ${JSON.stringify(hostname)}`];
  if (keys.length > 0) {
    lines.push('ssh_authorized_keys:');
    for (const k of keys) lines.push(`  - ${JSON.stringify(k)}`);
  }
  let text = `${lines.join('\n')}\n`;
  if (typeof extra === 'string' && extra.trim()) {
    // The instance's own cloud-config is appended without its header (one document).
    text += `${extra.replace(/^#cloud-config\s*\n/, '').trimEnd()}\n`;
  }
  return text;
}
