// How the kubelet API finds the pod a request names and the agent that runs it. Both are
// interfaces: the gateway backs them with its pod informer and its table of agent connections.
import * as k8s from '@kubernetes/client-node';
import type { StreamMux } from '../streams.js';

export interface LocatedPod {
  uid: string;
  nodeName: string;
  /** Every container name of the pod (init, app and ephemeral), to refuse unknown ones early. */
  containers: string[];
}

export type PodLocator = (namespace: string, name: string) => Promise<LocatedPod | undefined> | LocatedPod | undefined;

/** The stream multiplexer of the node's connected agent, if it is connected to this gateway. */
export type NodeConnections = (nodeName: string) => StreamMux | undefined;

/** The parts of a Pod the kubelet API needs; undefined while it is not bound to a node. */
export function locatedPod(pod: k8s.V1Pod): LocatedPod | undefined {
  const uid = pod.metadata?.uid;
  const nodeName = pod.spec?.nodeName;
  if (!uid || !nodeName) return undefined;
  const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])];
  return { uid, nodeName, containers: containers.map((c) => c.name) };
}

/** A PodLocator that reads the pod from the API on every request (no informer). */
export function apiPodLocator(kc: k8s.KubeConfig): PodLocator {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return async (namespace, name) => {
    try {
      return locatedPod(await core.readNamespacedPod({ namespace, name }));
    } catch (err) {
      if (err instanceof k8s.ApiException && err.code === 404) return undefined;
      throw err;
    }
  };
}
