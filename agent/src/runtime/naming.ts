// Names and labels of everything the runtime creates in Docker. The labels are the runtime's only
// durable state: after an agent restart they tie each container back to its pod, its revision and
// its restart count, so nothing has to be restarted to be understood.
import type { Pod } from '@lattice/protocol';

export const LABEL = {
  node: 'lattice.dev/node',
  podUid: 'lattice.dev/pod-uid',
  podNamespace: 'lattice.dev/pod-namespace',
  podName: 'lattice.dev/pod-name',
  container: 'lattice.dev/container',
  revision: 'lattice.dev/revision',
  restartCount: 'lattice.dev/restart-count',
  /** The pod's termination grace period, so an orphan found after a restart is stopped as gently. */
  gracePeriod: 'lattice.dev/grace-period',
  /** When the agent first started the pod: its status.startTime survives agent restarts. */
  startTime: 'lattice.dev/start-time',
  /** On a pod's emptyDir volumes: the volume's name in the pod. */
  volume: 'lattice.dev/volume',
  /** On lattice-local volumes: the PersistentVolume's volume name. Only these may be deleted. */
  localVolume: 'lattice.dev/local-volume',
  /** On the per-namespace networks. */
  namespace: 'lattice.dev/namespace',
} as const;

/** The `lattice.dev/container` value of a pod's sandbox (no Kubernetes container name has a `_`). */
export const SANDBOX = '_sandbox';

// Docker names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; Kubernetes names already fit, this only makes
// sure a malformed one can never turn into a Docker API error or a path.
function dockerSafe(s: string): string {
  return s.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

/** `lattice_<ns>_<pod>_<container>_<uid8>_<restart>`, unique per restart like the kubelet's names. */
export function containerName(pod: Pick<Pod, 'uid' | 'namespace' | 'name'>, container: string, restartCount: number): string {
  return ['lattice', pod.namespace, pod.name, container, pod.uid.slice(0, 8), String(restartCount)].map(dockerSafe).join('_');
}

export function sandboxName(pod: Pick<Pod, 'uid' | 'namespace' | 'name'>): string {
  return containerName(pod, SANDBOX, 0);
}

/** The Docker bridge network of a Kubernetes namespace: pods of one namespace share it only. */
export function namespaceNetworkName(namespace: string): string {
  return `lattice-ns-${dockerSafe(namespace)}`;
}

/** The Docker named volume behind a pod's emptyDir volume. */
export function emptyDirVolumeName(uid: string, volume: string): string {
  return `lattice_${dockerSafe(uid)}_${dockerSafe(volume)}`;
}

/**
 * The pod's hostname: `hostname` or the pod name, cut to 63 characters without a trailing `-` or
 * `.` as the kubelet does (a Linux hostname is at most 64 bytes).
 */
export function podHostname(pod: Pick<Pod, 'hostname' | 'name'>): string {
  return (pod.hostname || pod.name).slice(0, 63).replace(/[-.]+$/, '');
}

export interface ContainerLabelInput {
  nodeName: string;
  pod: Pick<Pod, 'uid' | 'namespace' | 'name' | 'revision' | 'terminationGracePeriodSeconds'>;
  container: string;
  restartCount: number;
  startTime: string;
}

/** Every label is always set, so an image's own labels can never stand in for one of ours. */
export function containerLabels(input: ContainerLabelInput): Record<string, string> {
  const { pod } = input;
  return {
    [LABEL.node]: input.nodeName,
    [LABEL.podUid]: pod.uid,
    [LABEL.podNamespace]: pod.namespace,
    [LABEL.podName]: pod.name,
    [LABEL.container]: input.container,
    [LABEL.revision]: pod.revision,
    [LABEL.restartCount]: String(input.restartCount),
    [LABEL.gracePeriod]: String(pod.terminationGracePeriodSeconds),
    [LABEL.startTime]: input.startTime,
  };
}

/** What the labels of a container we created say about it. */
export interface LabelledContainer {
  uid: string;
  namespace: string;
  podName: string;
  container: string;
  revision: string;
  restartCount: number;
  gracePeriodSeconds: number;
  startTime: string;
}

/** Reads back containerLabels(); undefined for a container that is not one of ours. */
export function parseContainerLabels(labels: Record<string, string> | undefined): LabelledContainer | undefined {
  const uid = labels?.[LABEL.podUid];
  const container = labels?.[LABEL.container];
  if (!labels || !uid || !container) return undefined;
  const count = (key: string, fallback: number) => {
    const n = Number(labels[key]);
    return Number.isSafeInteger(n) && n >= 0 ? n : fallback;
  };
  return {
    uid,
    namespace: labels[LABEL.podNamespace] ?? '',
    podName: labels[LABEL.podName] ?? '',
    container,
    revision: labels[LABEL.revision] ?? '',
    restartCount: count(LABEL.restartCount, 0),
    gracePeriodSeconds: count(LABEL.gracePeriod, 30),
    startTime: labels[LABEL.startTime] ?? '',
  };
}
