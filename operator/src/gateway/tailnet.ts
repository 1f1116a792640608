// `expose: tailnet` on the gateway's side. The Workload controller marks a pod for the tailnet
// with two annotations (the consumer's Secret, the ports); the gateway resolves that Secret here
// (the agent holds no Kubernetes credentials) and sends its login server and auth key down with
// the pod. The agent reports the pod's tailnet address in its status, which the gateway records
// as an annotation of the pod for the Workload controller to show in status.endpoints.
//
// A pod can only name a Secret of its own namespace, as with any other Secret reference.
import * as k8s from '@kubernetes/client-node';
import type { Pod } from '@lattice/protocol';
import { PodNotReady, PodRefused, type PodResolver } from './pod-translation.js';
import { textOf } from '../kube/secret-data.js';

/** The Secret with the tailnet's loginServer and authKey (the Workload's spec.tailnet.authKeySecretRef). */
export const TAILNET_SECRET_ANNOTATION = 'lattice.dev/tailnet-secret';
/** The container ports to put on the tailnet, comma-separated. */
export const TAILNET_PORTS_ANNOTATION = 'lattice.dev/tailnet-ports';
/** The pod's address on the tailnet, as its provider reports it. */
export const TAILNET_ADDRESS_ANNOTATION = 'lattice.dev/tailnet-address';

/** What the agent needs to put the pod's ports on the tailnet; undefined when it has none. */
export function tailnetExposure(pod: k8s.V1Pod, r: PodResolver): Pod['tailnet'] {
  const annotations = pod.metadata?.annotations ?? {};
  const secretName = annotations[TAILNET_SECRET_ANNOTATION];
  const portList = annotations[TAILNET_PORTS_ANNOTATION];
  if (!secretName || !portList) return undefined;
  const ports = portList.split(',').map(Number);
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new PodRefused(`annotation ${TAILNET_PORTS_ANNOTATION} must list port numbers, e.g. 80,6379 (got "${portList}")`);
  }
  const secret = r.secret(pod.metadata!.namespace!, secretName);
  if (!secret) throw new PodNotReady(`tailnet: Secret "${secretName}" does not exist yet`);
  const value = (key: string) => {
    const data = secret.data?.[key];
    if (!data) throw new PodNotReady(`tailnet: Secret "${secretName}" has no key "${key}" yet`);
    return textOf(data).trim();
  };
  const loginServer = value('loginServer');
  if (!/^https?:\/\/[^\s/]+/.test(loginServer)) {
    throw new PodRefused(`tailnet: key "loginServer" of Secret "${secretName}" must be the coordination server's http(s) URL, e.g. https://headscale.example.net`);
  }
  // The tailnet hostname: the pod's name, as its MagicDNS name (at most 63 characters).
  return { loginServer, authKey: value('authKey'), hostname: pod.metadata!.name!.slice(0, 63), ports };
}

/**
 * Records the tailnet address the agent reported on the pod (a separate write from the status:
 * annotations are not part of the status subresource); nothing is written when it is unchanged.
 */
export async function recordTailnetAddress(core: k8s.CoreV1Api, pod: k8s.V1Pod, address: string | undefined): Promise<void> {
  const current = pod.metadata?.annotations?.[TAILNET_ADDRESS_ANNOTATION];
  const wanted = address || undefined;
  if (current === wanted || (!pod.metadata?.annotations?.[TAILNET_PORTS_ANNOTATION] && !current)) return;
  await core.patchNamespacedPod(
    {
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      body: { metadata: { uid: pod.metadata!.uid, annotations: { [TAILNET_ADDRESS_ANNOTATION]: wanted ?? null } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}
