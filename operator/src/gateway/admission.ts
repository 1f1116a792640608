// The kubelet's admission of a pod bound to its node, for provider nodes: the pod must fit what
// the provider offers beside the pods already admitted there (the scheduler's NodeResourcesFit,
// checked again where the pod lands). The scheduler already keeps to it; this catches a pod bound
// with spec.nodeName, which no scheduler saw: without it a tenant could put any number of pods, of
// any size, on one provider, and the provider would be metered for all of it.
import type * as k8s from '@kubernetes/client-node';
import type { Offer } from '@lattice/protocol';
import { podRequests } from '../kube/pod-requests.js';

export interface Capacity {
  cpuMillis: number;
  memoryBytes: number;
  /** 0: the provider offers no disk (an agent from before the offer had it): not checked. */
  ephemeralStorageBytes: number;
  pods: number;
}

/** What a provider's Node has room for: its offer (110 pods when it names no limit, as a kubelet). */
export const offeredCapacity = (offer: Offer): Capacity => ({
  cpuMillis: offer.cpuMillis,
  memoryBytes: offer.memoryBytes,
  ephemeralStorageBytes: offer.diskBytes,
  pods: offer.maxPods || 110,
});

/** Pods that hold the node's resources: all but those finished. */
const holdsResources = (pod: k8s.V1Pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';

/** Why the node rejects the pod, as the kubelet words it (reason OutOfcpu, OutOfmemory, OutOfephemeral-storage, OutOfpods); undefined when it fits. */
export function rejection(pod: k8s.V1Pod, admitted: readonly k8s.V1Pod[], capacity: Capacity): { reason: string; message: string } | undefined {
  const holding = admitted.filter(holdsResources);
  const used = holding.map(podRequests).reduce((a, b) => ({
    cpuMillis: a.cpuMillis + b.cpuMillis,
    memoryBytes: a.memoryBytes + b.memoryBytes,
    ephemeralStorageBytes: a.ephemeralStorageBytes + b.ephemeralStorageBytes,
  }), { cpuMillis: 0, memoryBytes: 0, ephemeralStorageBytes: 0 });
  const requested = podRequests(pod);
  const checks = [
    ['pods', 1, holding.length, capacity.pods],
    ['cpu', requested.cpuMillis, used.cpuMillis, capacity.cpuMillis],
    ['memory', requested.memoryBytes, used.memoryBytes, capacity.memoryBytes],
    ['ephemeral-storage', requested.ephemeralStorageBytes, used.ephemeralStorageBytes, capacity.ephemeralStorageBytes || Infinity],
  ] as const;
  for (const [resource, asked, inUse, total] of checks) {
    if (asked > 0 && inUse + asked > total) {
      return { reason: `OutOf${resource}`, message: `Pod was rejected: Node didn't have enough resource: ${resource}, requested: ${asked}, used: ${inUse}, capacity: ${total}` };
    }
  }
  return undefined;
}
