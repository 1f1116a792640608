// Addresses a provider reports about its pods, checked before they reach the apiserver: a pod's IP
// goes into its status (and from there into EndpointSlices and headless-Service DNS), its tailnet
// address into its Workload's status.endpoints, where consumers connect to it. A provider is a
// stranger: it must not point either at the apiserver, a metadata service, a public host or a name.
import ipaddr from 'ipaddr.js';

/** The address if it is one, in canonical form and in one of `ranges`; otherwise undefined. */
function addressIn(value: string, ranges: readonly string[]): string | undefined {
  // Only dotted-quad IPv4 and plain IPv6: no 0x7f.1 or 2130706433 forms that name loopback in disguise.
  const v4 = ipaddr.IPv4.isValidFourPartDecimal(value);
  if (!v4 && !(ipaddr.IPv6.isValid(value) && value.includes(':'))) return undefined;
  const address = ipaddr.parse(value);
  return ranges.includes(address.range()) ? address.toString() : undefined;
}

/**
 * A pod IP as a provider may report it: the address of a container on its own Docker network,
 * private (RFC 1918) or unique-local IPv6. Loopback, link-local (169.254.169.254), CGNAT (the
 * tailnet's), public and malformed addresses are refused.
 */
export const acceptedPodIp = (value: string): string | undefined => addressIn(value, ['private', 'uniqueLocal']);

// Tailscale gives nodes addresses in these ranges only (headscale's prefixes must lie in them).
const TAILNET_V4 = ipaddr.parseCIDR('100.64.0.0/10');
const TAILNET_V6 = ipaddr.parseCIDR('fd7a:115c:a1e0::/48');

/** A tailnet address as a provider may report it: in Tailscale's 100.64.0.0/10 or fd7a:115c:a1e0::/48. */
export function acceptedTailnetAddress(value: string): string | undefined {
  const canonical = addressIn(value, ['carrierGradeNat', 'uniqueLocal']);
  if (!canonical) return undefined;
  const address = ipaddr.parse(canonical);
  const [range, bits] = address.kind() === 'ipv4' ? TAILNET_V4 : TAILNET_V6;
  return address.kind() === range.kind() && address.match(range, bits) ? canonical : undefined;
}
