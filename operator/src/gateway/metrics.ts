// The gateway's prom-client metrics, all in one registry the HTTP server exposes.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function gatewayMetrics(registry: Registry) {
  return {
    connectedAgents: new Gauge({ name: 'lattice_gateway_connected_agents', help: 'Agents with a live stream', registers: [registry] }),
    reconnects: new Counter({ name: 'lattice_gateway_stream_reconnects_total', help: 'Agent streams opened after the first, per node', labelNames: ['node'], registers: [registry] }),
    podsPerNode: new Gauge({ name: 'lattice_gateway_pods', help: 'Pods sent to each node', labelNames: ['node'], registers: [registry] }),
    podStartSeconds: new Histogram({
      name: 'lattice_gateway_pod_start_seconds',
      help: 'From pod creation to Ready reported by its agent',
      buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64],
      registers: [registry],
    }),
    refusedMessages: new Counter({ name: 'lattice_gateway_refused_messages_total', help: 'Agent messages refused', labelNames: ['reason'], registers: [registry] }),
    joins: new Counter({ name: 'lattice_gateway_joins_total', help: 'Join attempts by outcome', labelNames: ['outcome'], registers: [registry] }),
    renewals: new Counter({ name: 'lattice_gateway_certificate_renewals_total', help: 'Node certificate renewals by outcome', labelNames: ['outcome'], registers: [registry] }),
  };
}

export type GatewayMetrics = ReturnType<typeof gatewayMetrics>;
