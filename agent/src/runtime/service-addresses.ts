// Each Service of a namespace has its own address on the namespace network, as a ClusterIP has in
// a cluster, so two Services on one port (`web` and `api`, both on 80) are two listeners. The
// network's subnet is split in two: Docker's IPAM hands the lower half to containers (its
// IPRange), and the upper half is the agent's, for Service addresses put on the bridge itself (the
// host side), where the agent listens (agent/src/tunnels/services.ts).
//
// A Service's address comes from a hash of its name, so it is the same on every agent that shares
// the network and across agent restarts; a collision moves the later Service (by name) to the next
// free address, and an address once given stays with its Service while the agent runs.
import { createHash } from 'node:crypto';
import net from 'node:net';

/** A range of IPv4 addresses, as numbers, both ends included. */
export interface AddressRange {
  first: number;
  last: number;
}

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** An IPv4 CIDR as a range, or undefined for anything else. */
export function cidrRange(cidr: string): AddressRange | undefined {
  const [base, bits, ...rest] = cidr.split('/');
  const prefix = Number(bits);
  if (rest.length || !base || !net.isIPv4(base) || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const first = Math.floor(ipToNumber(base) / size) * size;
  return { first, last: first + size - 1 };
}

/** The lower half of a subnet, as a CIDR: the containers' part (Docker's IPRange). Undefined below 8 addresses. */
export function containerRange(subnet: string): string | undefined {
  const range = cidrRange(subnet);
  const prefix = Number(subnet.split('/')[1]);
  if (!range || prefix > 29) return undefined;
  return `${numberToIp(range.first)}/${prefix + 1}`;
}

/** The upper half of a subnet, less its broadcast address: the Services' part. Undefined below 8 addresses. */
export function serviceRange(subnet: string): AddressRange | undefined {
  const range = cidrRange(subnet);
  if (!range || !containerRange(subnet)) return undefined;
  return { first: range.first + (range.last - range.first + 1) / 2, last: range.last - 1 };
}

/** Whether Docker's IPAM keeps out of the Services' part: the network's IPRange is within the lower half. */
export function servicesReserved(subnet: string, ipRange: string | undefined): boolean {
  const services = serviceRange(subnet);
  const containers = ipRange ? cidrRange(ipRange) : undefined;
  return !!services && !!containers && containers.last < services.first && containers.first >= (cidrRange(subnet)?.first ?? Infinity);
}

/**
 * An address for each Service `name`: the one it had in `previous` if still in the range and not
 * taken by another, else the first free one from its name's hash on (wrapping around). Names are
 * placed in order, so every agent that sees the same names places them alike. A Service left
 * without an address (the range is full) is absent from the result.
 */
export function allocateAddresses(names: string[], range: AddressRange, taken: Iterable<string>, previous = new Map<string, string>()): Map<string, string> {
  const size = range.last - range.first + 1;
  const used = new Set([...taken].map(ipToNumber));
  const result = new Map<string, string>();
  const sorted = [...new Set(names)].sort();
  for (const name of sorted) {
    const kept = previous.get(name);
    const n = kept === undefined ? NaN : ipToNumber(kept);
    if (n >= range.first && n <= range.last && !used.has(n)) {
      used.add(n);
      result.set(name, numberToIp(n));
    }
  }
  for (const name of sorted) {
    if (result.has(name)) continue;
    const start = createHash('sha256').update(name).digest().readUInt32BE(0) % size;
    for (let i = 0; i < size; i++) {
      const n = range.first + ((start + i) % size);
      if (used.has(n)) continue;
      used.add(n);
      result.set(name, numberToIp(n));
      break;
    }
  }
  return result;
}

/**
 * The helper's script that makes `addresses` (/32 each) exactly the host addresses of `bridge`
 * besides its own gateway address (the only one not /32): idempotent, fails on the first error.
 */
export function bridgeAddressesScript(bridge: string, addresses: string[]): string {
  if (!/^[a-z0-9-]{1,15}$/.test(bridge) || !addresses.every((a) => net.isIPv4(a))) throw new Error(`not a bridge and IPv4 addresses: ${bridge} ${addresses.join(' ')}`);
  const wanted = addresses.map((a) => `${a}/32`);
  return [
    'set -e',
    `ip -4 -o addr show dev ${bridge} | while read -r _ _ _ cidr _; do`,
    `  case "$cidr" in */32) case " ${wanted.join(' ')} " in *" $cidr "*) ;; *) ip addr del "$cidr" dev ${bridge} ;; esac ;; esac`,
    'done',
    ...wanted.map((cidr) => `ip addr replace ${cidr} dev ${bridge}`),
  ].join('\n');
}
