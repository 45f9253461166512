/**
 * Addresses on EC2: every slice VPC gets the same private /16 (VPCs are isolated from each
 * other, so reuse is harmless), and each network a /24 inside it, either the network's own
 * `subnet` or the first free /24. EC2 reserves the first four addresses and the last of each
 * subnet, which gives the gateway and allocation range reported back to XOS.
 */
import { TerminalBackendError } from '../../errors';

/** CIDR of every slice VPC. */
export const VPC_CIDR = '10.0.0.0/16';

const toInt = (ip: string): number => ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
const toIp = (n: number): string => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/** Network address and prefix length of a CIDR. */
export function parseCidr(cidr: string): { base: number; bits: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr.trim());
  if (!m?.[1] || !m[2]) throw new TerminalBackendError(`not a CIDR: ${cidr}`);
  const bits = Number(m[2]);
  const size = 2 ** (32 - bits);
  return { base: Math.floor(toInt(m[1]) / size) * size, bits };
}

/** Whether `inner` lies inside `outer`. */
export function cidrWithin(inner: string, outer: string): boolean {
  const i = parseCidr(inner);
  const o = parseCidr(outer);
  return i.bits >= o.bits && i.base >= o.base && i.base + 2 ** (32 - i.bits) <= o.base + 2 ** (32 - o.bits);
}

/** The subnet CIDR a network asks for, checked against the VPC (EC2 subnets are /16 to /28). */
export function requestedSubnet(subnet: string | null | undefined): string | undefined {
  if (subnet === null || subnet === undefined || subnet === '') return undefined;
  const { base, bits } = parseCidr(subnet);
  const normalized = `${toIp(base)}/${bits}`;
  if (bits < 16 || bits > 28 || !cidrWithin(normalized, VPC_CIDR))
    throw new TerminalBackendError(`subnet ${subnet} must be a /16../28 inside the slice VPC ${VPC_CIDR} on EC2`);
  return normalized;
}

/** The /24 blocks of the VPC not overlapping any of `taken`, in order. */
export function freeSubnets(taken: readonly string[]): string[] {
  const used = taken.map(parseCidr);
  const vpc = parseCidr(VPC_CIDR);
  const out: string[] = [];
  for (let block = 0; block < 256; block++) {
    const base = vpc.base + block * 256;
    const overlaps = used.some((u) => base < u.base + 2 ** (32 - u.bits) && u.base < base + 256);
    if (!overlaps) out.push(`${toIp(base)}/24`);
  }
  return out;
}

/** Gateway and allocation range of a subnet, as EC2 reserves them (.1 router, .2 DNS, .3 future, last). */
export function subnetAddresses(cidr: string): { gateway: string; start_ip: string; stop_ip: string } {
  const { base, bits } = parseCidr(cidr);
  const last = base + 2 ** (32 - bits) - 1;
  return { gateway: toIp(base + 1), start_ip: toIp(base + 4), stop_ip: toIp(last - 1) };
}
