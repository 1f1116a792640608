// The native objects a Workload becomes, which Kubernetes' own controllers then run: a Deployment
// (a StatefulSet when it has volumes, so each replica keeps its own), and a Service for its ports.
// Pure functions of the Workload: the reconciler applies them as they are.
import type * as k8s from '@kubernetes/client-node';
import type { Workload, WorkloadSpec } from '@lattice/crds';
import { type PublicEndpoints, publicHttpsUrl, publicLabelProblem, publicPortsAnnotation, tcpPortsOf } from '../gateway/ingress/exposure.js';
import { controllerReference } from '../kube/owners.js';
import { selectorLabels, workloadLabels } from './labels.js';
import { podTemplate, type PodOptions } from './pod-template.js';

/** Volumes are provisioned on the provider that runs the replica (by the gateway). */
export const STORAGE_CLASS = 'lattice-local';

export type ReplicaSetOwner = k8s.V1Deployment | k8s.V1StatefulSet;

export interface DesiredObjects {
  replicas: ReplicaSetOwner;
  /** Absent when the Workload has no ports. */
  service?: k8s.V1Service;
}

/** Replicas that should run: none while suspended. */
export function desiredReplicas(spec: WorkloadSpec): number {
  return spec.suspend ? 0 : spec.replicas;
}

export function desiredObjects(wl: Workload, options: PodOptions): DesiredObjects {
  return {
    replicas: wl.spec.volumes?.length ? statefulSet(wl, options) : deployment(wl, options),
    service: service(wl),
  };
}

function metadata(wl: Workload): k8s.V1ObjectMeta {
  return {
    name: wl.metadata.name,
    namespace: wl.metadata.namespace,
    labels: workloadLabels(wl),
    ownerReferences: [controllerReference(wl)],
  };
}

export function deployment(wl: Workload, options: PodOptions): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(wl),
    spec: {
      replicas: desiredReplicas(wl.spec),
      selector: { matchLabels: selectorLabels(wl.metadata.name!) },
      // A new replica starts and passes its health check before an old one stops: never fewer
      // ready replicas than asked for during a rollout (the price: room for one more replica).
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: podTemplate(wl, options),
    },
  };
}

/**
 * A replica with volumes is bound to the provider that holds its data, so there is no surge: a
 * StatefulSet replaces its replicas one at a time, each on its own claims. Replicas are started
 * in parallel (they do not depend on each other). Scaling down keeps the claims (the API promises
 * that replicas: 0 and suspend keep volumes); deleting the Workload deletes them.
 */
export function statefulSet(wl: Workload, options: PodOptions): k8s.V1StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: metadata(wl),
    spec: {
      replicas: desiredReplicas(wl.spec),
      selector: { matchLabels: selectorLabels(wl.metadata.name!) },
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate' },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      volumeClaimTemplates: (wl.spec.volumes ?? []).map((v) => ({
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: v.name, labels: workloadLabels(wl) },
        spec: {
          accessModes: ['ReadWriteOnce'],
          storageClassName: STORAGE_CLASS,
          resources: { requests: { storage: v.size } },
        },
      })),
      template: podTemplate(wl, options),
    },
  };
}

export function service(wl: Workload): k8s.V1Service | undefined {
  const ports = wl.spec.ports ?? [];
  if (ports.length === 0) return undefined;
  // The public ports, for the gateway's ingress (see gateway/ingress/exposure.ts).
  const annotations = publicPortsAnnotation(ports.filter((p) => p.expose === 'public').map(({ name, port, protocol }) => ({ name, port, protocol })));
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { ...metadata(wl), ...(annotations ? { annotations } : {}) },
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(wl.metadata.name!),
      ports: ports.map((p) => ({
        name: p.name,
        port: p.port,
        targetPort: p.name,
        protocol: 'TCP',
        appProtocol: p.protocol === 'HTTP' ? 'http' : undefined,
      })),
    },
  };
}

/**
 * Where each port is reachable. A public port, when the ingress is on: the first public HTTP port
 * at https://<name>--<namespace>.<base domain>[:port] (when the two fit one DNS label), a public TCP port at the gateway port the
 * ingress allocated (recorded on the Service; until then, and for every other port, the address
 * inside the cluster).
 */
export function endpoints(wl: Workload, publicEndpoints?: PublicEndpoints, service?: k8s.V1Service): { port: string; url: string }[] {
  const { name, namespace } = wl.metadata as { name: string; namespace: string };
  const host = `${name}.${namespace}.svc`;
  const allocated = service ? tcpPortsOf(service) : {};
  const firstHttp = (wl.spec.ports ?? []).find((p) => p.expose === 'public' && p.protocol === 'HTTP');
  const httpsUrl = publicEndpoints && firstHttp && publicHttpsUrl(name, namespace, publicEndpoints);
  return (wl.spec.ports ?? []).map((p) => {
    if (httpsUrl && p === firstHttp) return { port: p.name, url: httpsUrl };
    const gatewayPort = allocated[p.name];
    if (publicEndpoints && p.expose === 'public' && p.protocol === 'TCP' && gatewayPort) return { port: p.name, url: `tcp://${publicEndpoints.tcpHost}:${gatewayPort}` };
    return { port: p.name, url: `${p.protocol === 'HTTP' ? 'http' : 'tcp'}://${host}:${p.port}` };
  });
}

/** The public URL of the Workload's first public HTTP port, when the ingress is on. */
export function publicUrl(wl: Workload, publicEndpoints?: PublicEndpoints): string | undefined {
  return publicEndpoints && hasPublicHttp(wl) ? publicHttpsUrl(wl.metadata.name!, wl.metadata.namespace!, publicEndpoints) : undefined;
}

/** Why a Workload with a public HTTP port gets no URL (its name and namespace make no host name). */
export function noPublicUrl(wl: Workload, publicEndpoints?: PublicEndpoints): { reason: string; message: string } | undefined {
  const problem = publicEndpoints && hasPublicHttp(wl) ? publicLabelProblem(wl.metadata.name!, wl.metadata.namespace!) : undefined;
  return problem ? { reason: 'NoPublicUrl', message: `No public URL: ${problem}.` } : undefined;
}

const hasPublicHttp = (wl: Workload) => (wl.spec.ports ?? []).some((p) => p.expose === 'public' && p.protocol === 'HTTP');
