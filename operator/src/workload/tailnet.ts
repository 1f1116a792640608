// `expose: tailnet` on the Workload's side: its pods are marked for the gateway (which Secret, which
// ports), and status.endpoints shows where a tailnet port is reachable once a provider reports
// a replica's tailnet address.
import type * as k8s from '@kubernetes/client-node';
import type { Workload } from '@lattice/crds';
import { TAILNET_ADDRESS_ANNOTATION, TAILNET_PORTS_ANNOTATION, TAILNET_SECRET_ANNOTATION } from '../gateway/tailnet.js';
import { isPodReady } from './status.js';

/** The pod annotations that put the Workload's tailnet ports on its tailnet; none without such ports. */
export function tailnetAnnotations(wl: Workload): Record<string, string> | undefined {
  const ports = (wl.spec.ports ?? []).filter((p) => p.expose === 'tailnet');
  const secret = wl.spec.tailnet?.authKeySecretRef.name;
  if (ports.length === 0 || !secret) return undefined;
  return { [TAILNET_SECRET_ANNOTATION]: secret, [TAILNET_PORTS_ANNOTATION]: ports.map((p) => p.port).join(',') };
}

/**
 * The endpoints with each tailnet port at the tailnet address of a ready replica (the oldest, so
 * the address shown does not hop between replicas), as tcp://<address>:<port>. Until a replica
 * is on the tailnet, the port keeps its address inside the cluster.
 */
export function withTailnetEndpoints(
  wl: Workload,
  pods: readonly k8s.V1Pod[],
  endpoints: { port: string; url: string }[],
): { port: string; url: string }[] {
  const address = pods
    .filter((p) => !p.metadata?.deletionTimestamp && isPodReady(p) && p.metadata?.annotations?.[TAILNET_ADDRESS_ANNOTATION])
    .sort((a, b) => created(a) - created(b))[0]
    ?.metadata?.annotations?.[TAILNET_ADDRESS_ANNOTATION];
  if (!address) return endpoints;
  const tailnetPorts = new Map((wl.spec.ports ?? []).filter((p) => p.expose === 'tailnet').map((p) => [p.name, p.port]));
  return endpoints.map((e) => {
    const port = tailnetPorts.get(e.port);
    return port === undefined ? e : { port: e.port, url: `tcp://${address}:${port}` };
  });
}

const created = (pod: k8s.V1Pod) => new Date(pod.metadata?.creationTimestamp ?? 0).getTime();
