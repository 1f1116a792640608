// The PostgresInstance controller: an instance becomes a StatefulSet of one PostgreSQL server on
// a provider's local volume, a Service and a connection Secret; its status follows the server.
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
import { PostgresCaches } from './caches.js';
import { PodExec } from './exec.js';
import { postgresImages, type PostgresImages } from './images.js';
import { INSTANCE_LABEL } from './objects.js';
import { PostgresReconciler } from './reconciler.js';

export interface PostgresControllerOptions {
  /** Watch this namespace only; every namespace if undefined. */
  namespace?: string;
  /** Instances reconciled at the same time. */
  maxConcurrency: number;
  /** The image of each major version; by default from the environment (see images.ts). */
  images?: PostgresImages;
  /** The cluster registry Lattice's images are in. */
  registry: string;
  /** Run servers only on providers with these labels too (e.g. those trusted with data). */
  providerSelector?: Record<string, string>;
  /** Where public ports are served (the operator's --ingress-* flags); none without an ingress. */
  publicEndpoints?: PublicEndpoints;
}

export interface PostgresControllerDeps {
  log: Logger;
  metrics: ControllerMetrics;
  events: EventRecorder;
}

/** The controller, and the caches the manager must fill before it starts. */
export function postgresController(
  kc: k8s.KubeConfig,
  options: PostgresControllerOptions,
  deps: PostgresControllerDeps,
): { controller: Controller; caches: Cache<k8s.KubernetesObject>[] } {
  const caches = new PostgresCaches(kc, options.namespace, deps.log);
  const images = options.images ?? postgresImages(process.env, options.registry);
  const reconciler = new PostgresReconciler(caches, new Applier(kc), new PodExec(kc), deps.events, {
    images,
    providerSelector: options.providerSelector,
    publicEndpoints: options.publicEndpoints,
  });
  const owned = ownerKey(API_VERSION, 'PostgresInstance');
  // The pod belongs to the StatefulSet, not to the instance: it is mapped by label.
  const podOwner = (pod: k8s.V1Pod) => {
    const instance = pod.metadata?.labels?.[INSTANCE_LABEL];
    return instance ? [objectKey(pod.metadata?.namespace, instance)] : [];
  };
  const controller = new Controller('postgresinstance', (key, log) => reconciler.reconcile(key, log), {
    log: deps.log,
    metrics: deps.metrics,
    maxConcurrency: options.maxConcurrency,
  })
    .watch(caches.instances, ownKey)
    .watch(caches.statefulSets, owned)
    .watch(caches.services, owned)
    .watch(caches.pods, podOwner);
  return { controller, caches: caches.all };
}
