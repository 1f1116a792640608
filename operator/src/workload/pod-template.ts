// The pod a Workload's replicas run as: one container, placed only on provider nodes by the real
// kube-scheduler (toleration + node selector + the Workload's own provider selector + spread),
// and moved off a lost provider by Kubernetes' taint-based eviction within a bounded time.
import type * as k8s from '@kubernetes/client-node';
import type { EnvVar, HealthCheck, Placement, Workload, WorkloadSpec } from '@lattice/crds';
import { selectorLabels, workloadLabels } from './labels.js';
import { tailnetAnnotations } from './tailnet.js';

/** Provider nodes carry this label and a NoSchedule taint with the same key (see the gateway). */
export const PROVIDER_LABEL = 'lattice.dev/provider';
export const CONTAINER_NAME = 'app';
const HOSTNAME = 'kubernetes.io/hostname';

export interface PodOptions {
  /**
   * How long a replica stays bound to a provider that went NotReady or unreachable before
   * Kubernetes evicts it and the Deployment recreates it elsewhere (Kubernetes' default: 300 s).
   */
  providerLossTimeoutSeconds: number;
}

export function podTemplate(wl: Workload, options: PodOptions): k8s.V1PodTemplateSpec {
  const { spec } = wl;
  return {
    metadata: { labels: workloadLabels(wl), annotations: tailnetAnnotations(wl) },
    spec: {
      containers: [container(spec)],
      imagePullSecrets: spec.imagePullSecrets,
      nodeSelector: { [PROVIDER_LABEL]: 'true' },
      affinity: providerAffinity(spec.placement),
      tolerations: tolerations(options),
      topologySpreadConstraints: [spread(wl.metadata.name!, spec.placement)],
      // A consumer's container has no business with the cluster's API, nor with the addresses of
      // every Service in its namespace.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
    },
  };
}

function container(spec: WorkloadSpec): k8s.V1Container {
  // Requests equal to limits: what the scheduler reserves on a provider is all the replica may use.
  const resources = { cpu: spec.resources.cpu, memory: spec.resources.memory };
  const probe = spec.healthCheck && healthProbe(spec.healthCheck);
  return {
    name: CONTAINER_NAME,
    image: spec.image,
    command: spec.command,
    args: spec.args,
    env: spec.env?.map(envVar),
    ports: spec.ports?.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' })),
    resources: { requests: resources, limits: resources },
    readinessProbe: probe,
    livenessProbe: probe,
    volumeMounts: spec.volumes?.map((v) => ({ name: v.name, mountPath: v.mountPath })),
    securityContext: { allowPrivilegeEscalation: false, privileged: false },
  };
}

function envVar(env: EnvVar): k8s.V1EnvVar {
  const { secretKeyRef, configMapKeyRef } = env.valueFrom ?? {};
  return {
    name: env.name,
    value: env.value,
    valueFrom: env.valueFrom && {
      secretKeyRef: secretKeyRef && { name: secretKeyRef.name, key: secretKeyRef.key },
      configMapKeyRef: configMapKeyRef && { name: configMapKeyRef.name, key: configMapKeyRef.key },
    },
  };
}

/** The health check decides both readiness (traffic) and liveness (restart), as the API says. */
function healthProbe(check: HealthCheck): k8s.V1Probe {
  const timing = {
    initialDelaySeconds: check.initialDelaySeconds,
    periodSeconds: check.periodSeconds,
    failureThreshold: check.failureThreshold,
  };
  if (check.http) return { httpGet: { path: check.http.path, port: check.http.port }, ...timing };
  if (check.tcp) return { tcpSocket: { port: check.tcp.port }, ...timing };
  return { exec: { command: check.exec!.command }, ...timing };
}

/** spec.placement.providerSelector: every label must match (one term, ANDed expressions). */
export function providerAffinity(placement: Placement | undefined): k8s.V1Affinity | undefined {
  const selector = Object.entries(placement?.providerSelector ?? {});
  if (selector.length === 0) return undefined;
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: selector.map(([key, value]) => ({ key, operator: 'In', values: [value] })) }],
      },
    },
  };
}

export function tolerations(options: PodOptions): k8s.V1Toleration[] {
  return [
    { key: PROVIDER_LABEL, operator: 'Equal', value: 'true', effect: 'NoSchedule' },
    // The node lifecycle controller taints a provider that stops heartbeating; after this long
    // its replicas are evicted and recreated on another provider.
    ...['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'].map((key) => ({
      key,
      operator: 'Exists',
      effect: 'NoExecute',
      tolerationSeconds: options.providerLossTimeoutSeconds,
    })),
  ];
}

/**
 * One replica per provider before any gets a second. With spreadAcrossProviders the scheduler
 * must keep that balance (DoNotSchedule), so losing one machine takes at most its share of the
 * replicas; without it the balance is only preferred (ScheduleAnyway). A provider that is gone
 * or closed (tainted NotReady, unreachable or outside its hours) is no place to balance against:
 * with nodeTaintsPolicy Honor it is left out, so its replicas can be replaced on the others.
 */
function spread(name: string, placement: Placement | undefined): k8s.V1TopologySpreadConstraint {
  return {
    maxSkew: 1,
    topologyKey: HOSTNAME,
    whenUnsatisfiable: placement?.spreadAcrossProviders ? 'DoNotSchedule' : 'ScheduleAnyway',
    nodeTaintsPolicy: 'Honor',
    labelSelector: { matchLabels: selectorLabels(name) },
  };
}
