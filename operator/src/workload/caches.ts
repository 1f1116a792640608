// The informers the Workload controller reads from: Workloads, and the Deployments,
// StatefulSets, Services and pods labelled with lattice.dev/workload (only those: a cluster's
// other pods are none of its business). In one namespace, or in all.
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type WorkloadStatus } from '@lattice/crds';
import type { Logger } from 'pino';
import type { Cache } from '../kube/informer.js';
import { labelledInformer, latticeInformer } from '../kube/scoped-informers.js';
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
    const scope = { kc, namespace, log };
    this.workloads = latticeInformer<StoredWorkload>(scope, WORKLOADS.plural);
    this.deployments = labelledInformer(scope, 'deployments', WORKLOAD_LABEL);
    this.statefulSets = labelledInformer(scope, 'statefulsets', WORKLOAD_LABEL);
    this.services = labelledInformer(scope, 'services', WORKLOAD_LABEL);
    this.pods = labelledInformer(scope, 'pods', WORKLOAD_LABEL);
  }

  get all(): Cache<k8s.KubernetesObject>[] {
    return [this.workloads, this.deployments, this.statefulSets, this.services, this.pods];
  }

  /** The pods of one Workload. */
  podsOf(namespace: string, name: string): k8s.V1Pod[] {
    return this.pods.list(namespace).filter((pod) => pod.metadata?.labels?.[WORKLOAD_LABEL] === name);
  }
}
