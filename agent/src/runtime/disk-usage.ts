// Which pods to evict for the disk they take (their containers' writable layers and disk-backed
// emptyDir volumes), as the kubelet's local ephemeral storage eviction decides it, checks in its
// order: an emptyDir over its sizeLimit, the pod over the sum of its containers' `ephemeral-storage`
// limits, a container over its limit (or, without one, over all the provider offers); and when the
// pods together hold more than the provider offers, the pod using the most goes. Neither overlay2
// nor Docker's local volumes have a size quota on most file systems, so usage is measured and
// enforced after the fact, as the kubelet does. Logs are not counted: Docker rotates them
// (security.ts). A memory-backed emptyDir is a tmpfs of its sizeLimit: memory, not disk.

export interface ContainerDiskUsage {
  name: string;
  /** Bytes in the container's writable layer. */
  usedBytes: number;
  /** Its ephemeral-storage limit; 0 when it sets none. */
  limitBytes: number;
}

export interface VolumeDiskUsage {
  /** The volume's name in the pod. */
  name: string;
  usedBytes: number;
  /** Its sizeLimit; 0 when it sets none. */
  sizeLimitBytes: number;
}

export interface PodDiskUsage {
  uid: string;
  containers: ContainerDiskUsage[];
  /** Its disk-backed emptyDir volumes. */
  emptyDirs: VolumeDiskUsage[];
}

/** What of a pod is measured: its running containers and its disk-backed emptyDirs, by Docker id and name. */
export interface DiskTargets {
  containers: { id: string; name: string; limitBytes: number }[];
  emptyDirs: { volume: string; name: string; sizeLimitBytes: number }[];
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

const podBytes = (pod: PodDiskUsage): number => [...pod.containers, ...pod.emptyDirs].reduce((n, c) => n + c.usedBytes, 0);

/** Why the pod goes for going over a bound of its own (kubelet's messages), if it does. */
function ownLimitExceeded(pod: PodDiskUsage, offeredBytes: number): string | undefined {
  for (const v of pod.emptyDirs) {
    if (v.sizeLimitBytes > 0 && v.usedBytes > v.sizeLimitBytes) return `Usage of EmptyDir volume "${v.name}" exceeds the limit "${formatBytes(v.sizeLimitBytes)}". `;
  }
  // As the kubelet's pod limit: the sum of the limits the containers set, when any sets one.
  const podLimit = pod.containers.reduce((n, c) => n + c.limitBytes, 0);
  if (podLimit > 0 && podBytes(pod) > podLimit) return `Pod ephemeral local storage usage exceeds the total limit of containers ${formatBytes(podLimit)}. `;
  for (const c of pod.containers) {
    const limit = c.limitBytes || offeredBytes;
    if (limit > 0 && c.usedBytes > limit) return `Container ${c.name} exceeded its local ephemeral storage limit "${formatBytes(limit)}". `;
  }
  return undefined;
}

/** The pods to evict, each once, for `usage` on a provider offering `offeredBytes` (0: no offer). */
export function diskEvictions(usage: readonly PodDiskUsage[], offeredBytes: number): Eviction[] {
  const evictions = new Map<string, string>();
  for (const pod of usage) {
    const message = ownLimitExceeded(pod, offeredBytes);
    if (message) evictions.set(pod.uid, message);
  }
  const left = usage.filter((pod) => !evictions.has(pod.uid));
  const total = left.reduce((n, pod) => n + podBytes(pod), 0);
  if (offeredBytes > 0 && total > offeredBytes) {
    const largest = [...left].sort((a, b) => podBytes(b) - podBytes(a))[0]!;
    const users = [
      ...largest.containers.map((c) => ({ what: `Container ${c.name}`, usedBytes: c.usedBytes })),
      ...largest.emptyDirs.map((v) => ({ what: `EmptyDir volume "${v.name}"`, usedBytes: v.usedBytes })),
    ];
    const top = users.sort((a, b) => b.usedBytes - a.usedBytes)[0]!;
    evictions.set(
      largest.uid,
      `The node was low on resource: ephemeral-storage. Threshold quantity: ${formatBytes(offeredBytes)}, in use: ${formatBytes(total)}. ${top.what} was using ${formatBytes(top.usedBytes)}, the most of any pod. `,
    );
  }
  return [...evictions].map(([uid, message]) => ({ uid, message }));
}
