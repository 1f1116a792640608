// Gateway ports for public TCP ports, from a configured range, recorded on each Service (see
// exposure.ts) so that a restarted gateway listens on the same ports and the controllers can
// publish them. Only the leader's gateway runs this, so two allocations never race.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isNotFound } from '../../kube/errors.js';
import { TCP_PORTS_ANNOTATION, publicPortsOf, tcpPortsOf } from './exposure.js';

const FIELD_MANAGER = 'lattice-gateway-ingress';

export interface PortRange {
  first: number;
  last: number;
}

/** "30000-30099" -> {first, last}. */
export function parsePortRange(value: string): PortRange | undefined {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(value.trim());
  if (!match) return undefined;
  const [first, last] = [Number(match[1]), Number(match[2])];
  return first >= 1 && last <= 65535 && first <= last ? { first, last } : undefined;
}

/**
 * The allocations each Service should carry: its current ones kept (while in the range and not
 * taken twice), a free port for each new public TCP port, and none for ports no longer public.
 * Pure, so the rule is unit-tested. Services are visited oldest first: an older claim wins.
 */
export function allocate(services: readonly k8s.V1Service[], range: PortRange): Map<k8s.V1Service, Record<string, number>> {
  const ordered = [...services].sort(
    (a, b) => Date.parse(String(a.metadata?.creationTimestamp)) - Date.parse(String(b.metadata?.creationTimestamp)) || a.metadata!.name!.localeCompare(b.metadata!.name!),
  );
  const taken = new Set<number>();
  const result = new Map<k8s.V1Service, Record<string, number>>();
  const wants = ordered.map((service) => ({ service, tcp: publicPortsOf(service).filter((p) => p.protocol === 'TCP'), current: tcpPortsOf(service) }));
  // Existing allocations first, so a new Service never takes a port an older one holds.
  for (const { service, tcp, current } of wants) {
    const kept: Record<string, number> = {};
    for (const { name } of tcp) {
      const port = current[name];
      if (port !== undefined && port >= range.first && port <= range.last && !taken.has(port)) {
        kept[name] = port;
        taken.add(port);
      }
    }
    result.set(service, kept);
  }
  for (const { service, tcp } of wants) {
    const kept = result.get(service)!;
    for (const { name } of tcp) {
      if (kept[name] !== undefined) continue;
      let port = range.first;
      while (port <= range.last && taken.has(port)) port++;
      if (port > range.last) continue; // the range is full: reported by the caller
      kept[name] = port;
      taken.add(port);
    }
  }
  return result;
}

export class TcpPortAllocator {
  private readonly core: k8s.CoreV1Api;

  constructor(
    kc: k8s.KubeConfig,
    private readonly range: PortRange,
    private readonly log: Logger,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  /** Writes the allocations that differ from what the Services carry. */
  async reconcile(services: readonly k8s.V1Service[]): Promise<void> {
    for (const [service, ports] of allocate(services, this.range)) {
      const wanted = publicPortsOf(service).filter((p) => p.protocol === 'TCP');
      if (wanted.length > Object.keys(ports).length) {
        this.log.warn({ service: `${service.metadata?.namespace}/${service.metadata?.name}`, range: this.range }, 'no free gateway port left for a public TCP port: widen --ingress-tcp-ports');
      }
      const current = tcpPortsOf(service);
      const same = Object.keys(ports).length === Object.keys(current).length && Object.entries(ports).every(([k, v]) => current[k] === v);
      if (same) continue;
      const { name, namespace } = service.metadata as { name: string; namespace: string };
      try {
        await this.core.patchNamespacedService(
          {
            name,
            namespace,
            fieldManager: FIELD_MANAGER,
            force: true,
            body: { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace, annotations: { [TCP_PORTS_ANNOTATION]: JSON.stringify(ports) } } },
          },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
        );
        this.log.info({ service: `${namespace}/${name}`, ports }, 'allocated public TCP ports');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}
