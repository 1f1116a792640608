import type * as k8s from '@kubernetes/client-node';
import { parseQuantity } from '@lattice/crds';

export interface PodRequests {
  cpuMillis: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
}

const requested = (c: k8s.V1Container, resource: string, scale = 1) => {
  const quantity = c.resources?.requests?.[resource];
  return quantity ? Math.round(parseQuantity(quantity) * scale) : 0;
};

/** What one pod reserves, as the scheduler counts it: the larger of its containers' sum and any init container. */
export function podRequests(pod: k8s.V1Pod): PodRequests {
  const of = (c: k8s.V1Container): PodRequests => ({
    cpuMillis: requested(c, 'cpu', 1000),
    memoryBytes: requested(c, 'memory'),
    ephemeralStorageBytes: requested(c, 'ephemeral-storage'),
  });
  const containers = (pod.spec?.containers ?? []).map(of);
  const inits = (pod.spec?.initContainers ?? []).map(of);
  const max = (key: keyof PodRequests) => Math.max(containers.reduce((n, c) => n + c[key], 0), ...inits.map((c) => c[key]));
  return { cpuMillis: max('cpuMillis'), memoryBytes: max('memoryBytes'), ephemeralStorageBytes: max('ephemeralStorageBytes') };
}
