// The downward API, resolved by the gateway as the kubelet resolves it (k8s.io/kubernetes
// pkg/fieldpath and pkg/api/v1/resource): a pod's own fields and its containers' resources, for
// env (fieldRef, resourceFieldRef) and as files (downwardAPI volumes and projections). The pod IP
// is the provider's to know, not the gateway's: its env is sent for the agent to fill in.
import type * as k8s from '@kubernetes/client-node';
import { parseQuantity } from '@lattice/crds';
import { PodNotReady, PodRefused, type PodResolver } from './pod-translation.js';

/** `key="value"` lines sorted by key, as the kubelet writes labels and annotations (Go's %q). */
function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((key) => `${key}=${JSON.stringify(map![key])}`)
    .join('\n');
}

/** The env fieldRefs of the pod IP (one address: pods have one), which agents fill in. */
export const POD_IP_FIELDS = new Set(['status.podIP', 'status.podIPs']);

/** metadata.labels['key'] and metadata.annotations['key']: the map and the key. */
const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.+)'\]$/;

/** The value of a fieldRef's path; `forEnv`: the paths only env may use (the node's and the status's) too. */
export function fieldValue(pod: k8s.V1Pod, path: string, r: Pick<PodResolver, 'hostIP'>, forEnv: boolean): string {
  const meta = pod.metadata!;
  const subscript = SUBSCRIPT.exec(path);
  if (subscript) return (subscript[1] === 'labels' ? meta.labels : meta.annotations)?.[subscript[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return meta.name!;
    case 'metadata.namespace':
      return meta.namespace!;
    case 'metadata.uid':
      return meta.uid!;
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
  }
  if (forEnv) {
    switch (path) {
      case 'spec.nodeName':
        return pod.spec!.nodeName ?? '';
      case 'spec.serviceAccountName':
        return pod.spec!.serviceAccountName ?? '';
      case 'status.hostIP':
      case 'status.hostIPs':
        return r.hostIP;
    }
  }
  throw new PodRefused(`fieldRef "${path}" is not supported on Lattice providers${forEnv ? '' : ' in a volume'}`);
}

const RESOURCES = new Map<string, 'cpuMillis' | 'memoryBytes' | 'ephemeralStorageBytes'>([
  ['cpu', 'cpuMillis'],
  ['memory', 'memoryBytes'],
  ['ephemeral-storage', 'ephemeralStorageBytes'],
]);

/** A quantity of the pod (the apiserver checked it; refused here too rather than thrown). */
function quantity(text: string, ref: k8s.V1ResourceFieldSelector): number {
  try {
    return parseQuantity(text);
  } catch {
    throw new PodRefused(`resourceFieldRef "${ref.resource}": "${text}" is not a quantity`);
  }
}

/**
 * A container's resource as a resourceFieldRef gives it: the quantity divided by the divisor,
 * rounded up; a limit the container does not set is the node's allocatable, as on a kubelet.
 */
export function resourceValue(pod: k8s.V1Pod, ref: k8s.V1ResourceFieldSelector, containerName: string | undefined, r: Pick<PodResolver, 'capacity'>): string {
  const name = ref.containerName || containerName;
  const container = [...(pod.spec!.initContainers ?? []), ...pod.spec!.containers].find((c) => c.name === name);
  if (!container) throw new PodRefused(`resourceFieldRef "${ref.resource}" names no container of the pod ("${name ?? ''}")`);
  const [kind, resource = ''] = ref.resource.split(/\.(.*)/s) as [string, string?];
  const field = RESOURCES.get(resource);
  if ((kind !== 'limits' && kind !== 'requests') || !field) throw new PodRefused(`resourceFieldRef "${ref.resource}" is not supported on Lattice providers`);
  // In whole units as the kubelet counts them: millicores, bytes.
  const unit = field === 'cpuMillis' ? 1000 : 1;
  const set = container.resources?.[kind]?.[resource];
  let amount = Math.round(quantity(set ?? '0', ref) * unit);
  if (kind === 'limits' && set === undefined) {
    const capacity = r.capacity(pod.spec!.nodeName ?? '');
    if (!capacity) throw new PodNotReady(`resourceFieldRef "${ref.resource}": node ${pod.spec!.nodeName ?? ''} has not offered its resources yet`);
    amount = capacity[field];
  }
  const divisor = Math.round(quantity(ref.divisor || '1', ref) * unit) || unit;
  return String(Math.ceil(amount / divisor));
}

export interface DownwardFile {
  path: string;
  content: Buffer;
  mode: number;
}

/** The files of a downwardAPI volume or projection. */
export function downwardFiles(pod: k8s.V1Pod, items: k8s.V1DownwardAPIVolumeFile[] | undefined, defaultMode: number, r: Pick<PodResolver, 'hostIP' | 'capacity'>): DownwardFile[] {
  return (items ?? []).map((item) => {
    const value = item.fieldRef ? fieldValue(pod, item.fieldRef.fieldPath, r, false) : item.resourceFieldRef ? resourceValue(pod, item.resourceFieldRef, undefined, r) : '';
    return { path: item.path, content: Buffer.from(value), mode: item.mode ?? defaultMode };
  });
}
