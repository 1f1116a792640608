import type * as k8s from '@kubernetes/client-node';
import { parseQuantity } from '@lattice/crds';

/** What one pod reserves, as the scheduler counts it: the larger of its containers' sum and any init container. */
export function podRequests(pod: k8s.V1Pod): { cpuMillis: number; memoryBytes: number } {
  const of = (c: k8s.V1Container) => ({
    cpuMillis: c.resources?.requests?.cpu ? Math.round(parseQuantity(c.resources.requests.cpu) * 1000) : 0,
    memoryBytes: c.resources?.requests?.memory ? Math.round(parseQuantity(c.resources.requests.memory)) : 0,
  });
  const containers = (pod.spec?.containers ?? []).map(of);
  const inits = (pod.spec?.initContainers ?? []).map(of);
  const sum = (key: 'cpuMillis' | 'memoryBytes') => containers.reduce((n, c) => n + c[key], 0);
  const max = (key: 'cpuMillis' | 'memoryBytes') => Math.max(sum(key), ...inits.map((c) => c[key]));
  return { cpuMillis: max('cpuMillis'), memoryBytes: max('memoryBytes') };
}
