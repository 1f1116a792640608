// How a public port travels from a controller to the ingress and back, on the Service:
//
//   lattice.dev/public-ports      set by the Workload / PostgresInstance controller: the ports
//                                 that are `expose: public`, as JSON [{name, port, protocol}]
//                                 (port: the container's port, which the tunnel dials).
//   lattice.dev/public-tcp-ports  set by the gateway's ingress: the gateway port allocated to
//                                 each public TCP port, as JSON {name: gatewayPort}. On the
//                                 Service, so a restarted (or another) gateway keeps the port.
//
// And the public names: https://<name>-<namespace>.<base domain>[:port] for HTTP,
// tcp://<tcp host>:<allocated port> for TCP.
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

/** The DNS label of a public name: one label, so a wildcard certificate for the base domain covers it. */
export const publicLabel = (name: string, namespace: string) => `${name}-${namespace}`;

export function publicHttpsUrl(name: string, namespace: string, endpoints: PublicEndpoints): string {
  const port = endpoints.httpsPort === 443 ? '' : `:${endpoints.httpsPort}`;
  return `https://${publicLabel(name, namespace)}.${endpoints.baseDomain}${port}`;
}

function parseJson(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}
