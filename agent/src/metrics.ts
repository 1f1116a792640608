// The agent's prom-client metrics, in a registry of its own that the admin API serves.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export function agentMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'lattice_agent_' });
  return {
    registry,
    connected: new Gauge({ name: 'lattice_agent_connected', help: '1 while the gateway stream is up', registers: [registry] }),
    dials: new Counter({ name: 'lattice_agent_dials_total', help: 'Connection attempts to the gateway', registers: [registry] }),
    tailnetUp: new Gauge({ name: 'lattice_agent_tailnet_up', help: 'Pods whose tailnet node is up (their expose: tailnet ports are reachable)', registers: [registry] }),
  };
}
