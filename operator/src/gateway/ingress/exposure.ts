// How a public port travels from a controller to the ingress and back, on the Service:
//
//   lattice.dev/public-ports      set by the Workload / PostgresInstance controller: the ports
//                                 that are `expose: public`, as JSON [{name, port, protocol}]
//                                 (port: the container's port, which the tunnel dials).
//   lattice.dev/public-tcp-ports  set by the gateway's ingress: the gateway port allocated to
//                                 each public TCP port, as JSON {name: gatewayPort}. On the
//                                 Service, so a restarted (or another) gateway keeps the port.
//
// And the public names: https://<name>--<namespace>.<base domain>[:port] for HTTP,
// tcp://<tcp host>:<allocated port> for TCP.
//
// Only the operator may write these (config/admission: a ValidatingAdmissionPolicy), so a tenant
// who can edit Services in a namespace still cannot publish a port or take another's TCP port.
import { z } from 'zod';

export const PUBLIC_PORTS_ANNOTATION = 'lattice.dev/public-ports';
export const TCP_PORTS_ANNOTATION = 'lattice.dev/public-tcp-ports';

export const PublicPort = z.object({
  name: z.string().min(1).max(63),
  port: z.number().int().min(1).max(65535),
  protocol: z.enum(['HTTP', 'TCP']),
});
export type PublicPort = z.infer<typeof PublicPort>;

const PublicPorts = z.array(PublicPort).max(32);
const TcpPorts = z.record(z.string(), z.number().int().min(1).max(65535));

/** Where public URLs point: what the operator's --ingress-* flags say. */
export interface PublicEndpoints {
  baseDomain: string;
  /** The HTTPS port clients use (left out of URLs when 443). */
  httpsPort: number;
  /** The host name or address in tcp:// endpoints and the PostgreSQL Secret's publicHost. */
  tcpHost: string;
  /** Where the operator itself reaches the ingress to check a URL answers (host:port). */
  probeAddress: { host: string; port: number };
}

type Annotated = { metadata?: { annotations?: Record<string, string> } };

/** The public ports a Service carries; [] when none or unreadable (written by us only). */
export function publicPortsOf(service: Annotated): PublicPort[] {
  const parsed = PublicPorts.safeParse(parseJson(service.metadata?.annotations?.[PUBLIC_PORTS_ANNOTATION]));
  return parsed.success ? parsed.data : [];
}

/** The gateway ports allocated to a Service's public TCP ports, by port name. */
export function tcpPortsOf(service: Annotated): Record<string, number> {
  const parsed = TcpPorts.safeParse(parseJson(service.metadata?.annotations?.[TCP_PORTS_ANNOTATION]));
  return parsed.success ? parsed.data : {};
}

/** The annotation value a controller sets; undefined when nothing is public. */
export function publicPortsAnnotation(ports: PublicPort[]): Record<string, string> | undefined {
  return ports.length ? { [PUBLIC_PORTS_ANNOTATION]: JSON.stringify(ports) } : undefined;
}

/**
 * Between name and namespace in a public host name. A Workload with a public HTTP port may not
 * hold it in its name (crds/src/workload.ts), so the first one splits the label: one label is one
 * Workload's, however many dashes either name holds (with one dash, `web-acme` in `prod` and
 * `web` in `acme-prod` would share a URL, and the older would squat the other's).
 */
export const PUBLIC_LABEL_SEPARATOR = '--';
const MAX_DNS_LABEL = 63;

/** Why a Workload has no public host name, or undefined when it has one. */
export function publicLabelProblem(name: string, namespace: string): string | undefined {
  if (name.includes(PUBLIC_LABEL_SEPARATOR)) return `its name holds '${PUBLIC_LABEL_SEPARATOR}', which public host names keep to tell the name from the namespace`;
  const label = `${name}${PUBLIC_LABEL_SEPARATOR}${namespace}`;
  if (label.length > MAX_DNS_LABEL) return `${label} has ${label.length} characters, over the ${MAX_DNS_LABEL} of a DNS label: shorten the Workload's name`;
  if (label.startsWith('xn--')) return `${label} starts with xn--, which DNS keeps for internationalized names`;
  return undefined;
}

/** The DNS label of a public name, one label so that a wildcard certificate for the base domain covers it. */
export function publicLabel(name: string, namespace: string): string | undefined {
  return publicLabelProblem(name, namespace) ? undefined : `${name}${PUBLIC_LABEL_SEPARATOR}${namespace}`;
}

export function publicHttpsUrl(name: string, namespace: string, endpoints: PublicEndpoints): string | undefined {
  const label = publicLabel(name, namespace);
  const port = endpoints.httpsPort === 443 ? '' : `:${endpoints.httpsPort}`;
  return label && `https://${label}.${endpoints.baseDomain}${port}`;
}

function parseJson(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
