// The CronWorkload controller: a CronWorkload becomes a Job per run, which Kubernetes runs, and its
// status follows those Jobs and their pods.
import * as k8s from '@kubernetes/client-node';
import { API_VERSION } from '@lattice/crds';
import type { Logger } from 'pino';
import { Controller, ownKey, ownerKey } from '../controller/controller.js';
import { objectKey } from '../controller/keys.js';
import type { ControllerMetrics } from '../controller/metrics.js';
import { Applier } from '../kube/apply.js';
import type { EventRecorder } from '../kube/events.js';
import type { Cache } from '../kube/informer.js';
import { CronWorkloadCaches } from './caches.js';
import { CronWorkloadReconciler } from './reconciler.js';
import { CRONWORKLOAD_LABEL } from './runs.js';

export interface CronWorkloadControllerOptions {
  /** Watch this namespace only; every namespace if undefined. */
  namespace?: string;
  /** CronWorkloads reconciled at the same time. */
  maxConcurrency: number;
}

export interface CronWorkloadControllerDeps {
  log: Logger;
  metrics: ControllerMetrics;
  events: EventRecorder;
}

/** The controller, and the caches the manager must fill before it starts. */
export function cronWorkloadController(
  kc: k8s.KubeConfig,
  options: CronWorkloadControllerOptions,
  deps: CronWorkloadControllerDeps,
): { controller: Controller; caches: Cache<k8s.KubernetesObject>[] } {
  const caches = new CronWorkloadCaches(kc, options.namespace, deps.log);
  const reconciler = new CronWorkloadReconciler(caches, kc.makeApiClient(k8s.BatchV1Api), new Applier(kc), deps.events);
  // Pods belong to a Job, not to the CronWorkload: they are mapped by label.
  const podOwner = (pod: k8s.V1Pod) => {
    const cronWorkload = pod.metadata?.labels?.[CRONWORKLOAD_LABEL];
    return cronWorkload ? [objectKey(pod.metadata?.namespace, cronWorkload)] : [];
  };
  const controller = new Controller('cronworkload', (key, log) => reconciler.reconcile(key, log), {
    log: deps.log,
    metrics: deps.metrics,
    maxConcurrency: options.maxConcurrency,
  })
    .watch(caches.cronWorkloads, ownKey)
    .watch(caches.jobs, ownerKey(API_VERSION, 'CronWorkload'))
    .watch(caches.pods, podOwner);
  return { controller, caches: caches.all };
}
