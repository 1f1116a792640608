// The informers the Workload controller reads from: Workloads, and the Deployments,
// StatefulSets, Services and pods labelled with lattice.dev/workload (only those: a cluster's
// other pods are none of its business). In one namespace, or in all.
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type WorkloadStatus } from '@lattice/crds';
import type { Logger } from 'pino';
import { informer, type Cache } from '../kube/informer.js';
import { WORKLOAD_LABEL } from './labels.js';

export const WORKLOADS = { group: GROUP, version: VERSION, plural: 'workloads' } as const;

/** A Workload as stored: the spec is read through the zod schema before use. */
export interface StoredWorkload extends k8s.KubernetesObject {
  spec?: unknown;
  status?: WorkloadStatus;
}

export class WorkloadCaches {
  readonly workloads: Cache<StoredWorkload>;
  readonly deployments: Cache<k8s.V1Deployment>;
  readonly statefulSets: Cache<k8s.V1StatefulSet>;
  readonly services: Cache<k8s.V1Service>;
  readonly pods: Cache<k8s.V1Pod>;

  constructor(kc: k8s.KubeConfig, namespace: string | undefined, log: Logger) {
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const labelSelector = WORKLOAD_LABEL;
    const path = (prefix: string, plural: string) => (namespace ? `${prefix}/namespaces/${namespace}/${plural}` : `${prefix}/${plural}`);
    const selected = { labelSelector };

    this.workloads = informer<StoredWorkload>(
      kc,
      path(`/apis/${GROUP}/${VERSION}`, WORKLOADS.plural),
      () => (namespace ? custom.listNamespacedCustomObject({ ...WORKLOADS, namespace }) : custom.listClusterCustomObject(WORKLOADS)),
      log,
    );
    this.deployments = informer(
      kc,
      path('/apis/apps/v1', 'deployments'),
      () => (namespace ? apps.listNamespacedDeployment({ namespace, labelSelector }) : apps.listDeploymentForAllNamespaces(selected)),
      log,
      selected,
    );
    this.statefulSets = informer(
      kc,
      path('/apis/apps/v1', 'statefulsets'),
      () => (namespace ? apps.listNamespacedStatefulSet({ namespace, labelSelector }) : apps.listStatefulSetForAllNamespaces(selected)),
      log,
      selected,
    );
    this.services = informer(
      kc,
      path('/api/v1', 'services'),
      () => (namespace ? core.listNamespacedService({ namespace, labelSelector }) : core.listServiceForAllNamespaces(selected)),
      log,
      selected,
    );
    this.pods = informer(
      kc,
      path('/api/v1', 'pods'),
      () => (namespace ? core.listNamespacedPod({ namespace, labelSelector }) : core.listPodForAllNamespaces(selected)),
      log,
      selected,
    );
  }

  get all(): Cache<k8s.KubernetesObject>[] {
    return [this.workloads, this.deployments, this.statefulSets, this.services, this.pods];
  }

  /** The pods of one Workload. */
  podsOf(namespace: string, name: string): k8s.V1Pod[] {
    return this.pods.list(namespace).filter((pod) => pod.metadata?.labels?.[WORKLOAD_LABEL] === name);
  }
}
