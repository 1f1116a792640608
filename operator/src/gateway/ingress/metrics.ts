// The ingress's prom-client metrics, per exposed endpoint (namespace/service:port). Open tunnels
// are lattice_gateway_streams_open{kind="dial"} (kubelet-api/metrics.ts counts every stream).
import type { Readable } from 'node:stream';
import { Counter, Histogram, type Registry } from 'prom-client';

export function ingressMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'lattice_ingress_requests_total',
      help: 'HTTP requests and WebSocket upgrades (kind) and TCP connections relayed, per endpoint, by status code class (or "tcp")',
      labelNames: ['endpoint', 'kind', 'code'] as const,
      registers: [registry],
    }),
    bytes: new Counter({
      name: 'lattice_ingress_bytes_total',
      help: 'Bytes relayed per endpoint: in = from clients towards the pod, out = from the pod to clients',
      labelNames: ['endpoint', 'direction'] as const,
      registers: [registry],
    }),
    refused: new Counter({
      name: 'lattice_ingress_refused_total',
      help: 'Connections and requests the ingress refused or answered itself: over a client cap, no such public host, no ready replica, or the tunnel failed',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'lattice_ingress_relay_latency_seconds',
      help: 'From a request reaching the ingress to the first response bytes from the pod through its tunnel (HTTP: the response head)',
      labelNames: ['kind'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

export type IngressMetrics = ReturnType<typeof ingressMetrics>;

/** Counts the bytes flowing through a readable stream towards `direction`. */
export function countBytes(metrics: IngressMetrics, stream: Readable, endpoint: string, direction: 'in' | 'out'): void {
  const counter = metrics.bytes.labels({ endpoint, direction });
  stream.on('data', (chunk: Buffer | string) => counter.inc(Buffer.byteLength(chunk)));
}
