// Which pods to evict for the disk their containers' writable layers take, as the kubelet's
// local ephemeral storage eviction decides it: a container over its `ephemeral-storage` limit (or,
// without one, over all the provider offers) gets its pod evicted; and when the pods together hold
// more than the provider offers, the pod using the most goes. Docker's overlay2 has no size quota
// on most file systems, so usage is measured (SizeRw) and enforced after the fact, as the kubelet
// does. Logs are not counted: Docker rotates them (security.ts).

export interface ContainerDiskUsage {
  name: string;
  /** Bytes in the container's writable layer. */
  usedBytes: number;
  /** Its ephemeral-storage limit; 0 when it sets none. */
  limitBytes: number;
}

export interface PodDiskUsage {
  uid: string;
  containers: ContainerDiskUsage[];
}

export interface Eviction {
  uid: string;
  /** Why, in the kubelet's words: the pod's status message and its Evicted event. */
  message: string;
}

/** Bytes as a Kubernetes quantity, in the largest binary unit they reach, to one decimal: 20Mi, 1.5Gi. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))}${unit}`;
  }
  return String(bytes);
}

/** The pods to evict, each once, for `usage` on a provider offering `offeredBytes` (0: no offer). */
export function diskEvictions(usage: readonly PodDiskUsage[], offeredBytes: number): Eviction[] {
  const evictions = new Map<string, string>();
  for (const pod of usage) {
    for (const c of pod.containers) {
      const limit = c.limitBytes || offeredBytes;
      if (limit > 0 && c.usedBytes > limit && !evictions.has(pod.uid)) {
        evictions.set(pod.uid, `Container ${c.name} exceeded its local ephemeral storage limit "${formatBytes(limit)}". `);
      }
    }
  }
  const podBytes = (pod: PodDiskUsage) => pod.containers.reduce((n, c) => n + c.usedBytes, 0);
  const left = usage.filter((pod) => !evictions.has(pod.uid));
  const total = left.reduce((n, pod) => n + podBytes(pod), 0);
  if (offeredBytes > 0 && total > offeredBytes) {
    const largest = [...left].sort((a, b) => podBytes(b) - podBytes(a))[0]!;
    const top = [...largest.containers].sort((a, b) => b.usedBytes - a.usedBytes)[0]!;
    evictions.set(
      largest.uid,
      `The node was low on resource: ephemeral-storage. Threshold quantity: ${formatBytes(offeredBytes)}, in use: ${formatBytes(total)}. Container ${top.name} was using ${formatBytes(top.usedBytes)}, the most of any pod. `,
    );
  }
  return [...evictions].map(([uid, message]) => ({ uid, message }));
}
