// The Workload controller: a Workload becomes a Deployment or StatefulSet and a Service that
// Kubernetes runs, and its status follows those objects and their pods.
import type * as k8s from '@kubernetes/client-node';
import { API_VERSION } from '@lattice/crds';
import type { Logger } from 'pino';
import { Controller, ownKey, ownerKey } from '../controller/controller.js';
import { objectKey } from '../controller/keys.js';
import type { ControllerMetrics } from '../controller/metrics.js';
import { Applier } from '../kube/apply.js';
import type { EventRecorder } from '../kube/events.js';
import type { PublicEndpoints } from '../gateway/ingress/exposure.js';
import type { Cache } from '../kube/informer.js';
import { BuildCaches, Builds } from '../build/builds.js';
import { secretWorkloads } from '../build/credentials.js';
import { BUILD_OF_LABEL, type BuildOptions } from '../build/job.js';
import { WorkloadCaches } from './caches.js';
import { WORKLOAD_LABEL } from './labels.js';
import { WorkloadReconciler } from './reconciler.js';

export interface WorkloadControllerOptions extends BuildOptions {
  /** Watch this namespace only; every namespace if undefined. */
  namespace?: string;
  /** Workloads reconciled at the same time. */
  maxConcurrency: number;
  /** Where public ports are served (the operator's --ingress-* flags); none without an ingress. */
  publicEndpoints?: PublicEndpoints;
}

export interface WorkloadControllerDeps {
  log: Logger;
  metrics: ControllerMetrics;
  events: EventRecorder;
}

/** The controller, and the caches the manager must fill before it starts. */
export function workloadController(
  kc: k8s.KubeConfig,
  options: WorkloadControllerOptions,
  deps: WorkloadControllerDeps,
): { controller: Controller; caches: Cache<k8s.KubernetesObject>[] } {
  const caches = new WorkloadCaches(kc, options.namespace, deps.log);
  const buildCaches = new BuildCaches({ kc, namespace: options.namespace, log: deps.log });
  const applier = new Applier(kc);
  const builds = new Builds(buildCaches, applier, options);
  const reconciler = new WorkloadReconciler(caches, applier, deps.events, options, builds, options.publicEndpoints);
  const owned = ownerKey(API_VERSION, 'Workload');
  // Pods belong to a ReplicaSet or StatefulSet, not to the Workload: they are mapped by label.
  const podOwner = (pod: k8s.V1Pod) => {
    const workload = pod.metadata?.labels?.[WORKLOAD_LABEL];
    return workload ? [objectKey(pod.metadata?.namespace, workload)] : [];
  };
  const buildPodOwner = (pod: k8s.V1Pod) => {
    const workload = pod.metadata?.labels?.[BUILD_OF_LABEL];
    return workload ? [objectKey(pod.metadata?.namespace, workload)] : [];
  };
  const controller = new Controller('workload', (key, log) => reconciler.reconcile(key, log), {
    log: deps.log,
    metrics: deps.metrics,
    maxConcurrency: options.maxConcurrency,
  })
    .watch(caches.workloads, ownKey)
    .watch(caches.deployments, owned)
    .watch(caches.statefulSets, owned)
    .watch(caches.services, owned)
    .watch(caches.pods, podOwner)
    .watch(buildCaches.jobs, owned)
    .watch(buildCaches.pods, buildPodOwner)
    .watch(buildCaches.secrets, (secret) => secretWorkloads(secret, caches.workloads.list(secret.metadata?.namespace)));
  return { controller, caches: [...caches.all, ...buildCaches.all] };
}
