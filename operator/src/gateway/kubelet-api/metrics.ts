// Prometheus metrics of the streams relayed between the kubelet API and the agents. One instance
// per registry: every agent connection's StreamMux reports into the same metrics.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { StreamObserver } from '../streams.js';

export function createStreamMetrics(registry: Registry): StreamObserver {
  const open = new Gauge({
    name: 'lattice_gateway_streams_open',
    help: 'Streams currently open between the gateway and agents: log, exec, dial (tunnels to a pod) and service (a pod connecting to a Service).',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'lattice_gateway_stream_bytes_total',
    help: 'Bytes relayed on log and exec streams, by direction (toAgent: stdin; fromAgent: output).',
    labelNames: ['direction'] as const,
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'lattice_gateway_stream_messages_dropped_total',
    help: 'Stream messages from agents that were dropped: for a stream the gateway did not open, or on a channel it does not read.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  return {
    opened: (kind) => open.inc({ kind }),
    closed: (kind) => open.dec({ kind }),
    relayed: (direction, n) => bytes.inc({ direction }, n),
    dropped: (reason) => dropped.inc({ reason }),
  };
}
