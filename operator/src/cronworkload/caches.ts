// The informers the CronWorkload controller reads from: CronWorkloads, and the Jobs and pods
// labelled with lattice.dev/cronworkload (only those: a cluster's other Jobs are none of its
// business). In one namespace, or in all.
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type CronWorkloadStatus } from '@lattice/crds';
import type { Logger } from 'pino';
import { informer, type Cache } from '../kube/informer.js';
import { isControlledBy } from '../kube/owners.js';
import type { Run } from './history.js';
import { CRONWORKLOAD_LABEL } from './runs.js';

export const CRONWORKLOADS = { group: GROUP, version: VERSION, plural: 'cronworkloads' } as const;

/** A CronWorkload as stored: the spec is read through the zod schema before use. */
export interface StoredCronWorkload extends k8s.KubernetesObject {
  spec?: unknown;
  status?: CronWorkloadStatus;
}

export class CronWorkloadCaches {
  readonly cronWorkloads: Cache<StoredCronWorkload>;
  readonly jobs: Cache<k8s.V1Job>;
  readonly pods: Cache<k8s.V1Pod>;

  constructor(kc: k8s.KubeConfig, namespace: string | undefined, log: Logger) {
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const labelSelector = CRONWORKLOAD_LABEL;
    const path = (prefix: string, plural: string) => (namespace ? `${prefix}/namespaces/${namespace}/${plural}` : `${prefix}/${plural}`);
    const selected = { labelSelector };

    this.cronWorkloads = informer<StoredCronWorkload>(
      kc,
      path(`/apis/${GROUP}/${VERSION}`, CRONWORKLOADS.plural),
      () => (namespace ? custom.listNamespacedCustomObject({ ...CRONWORKLOADS, namespace }) : custom.listClusterCustomObject(CRONWORKLOADS)),
      log,
    );
    this.jobs = informer(
      kc,
      path('/apis/batch/v1', 'jobs'),
      () => (namespace ? batch.listNamespacedJob({ namespace, labelSelector }) : batch.listJobForAllNamespaces(selected)),
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
    return [this.cronWorkloads, this.jobs, this.pods];
  }

  /** The runs of the CronWorkload with this uid: its Jobs, each with its pods. */
  runsOf(namespace: string, uid: string): Run[] {
    const pods = this.pods.list(namespace);
    return this.jobs
      .list(namespace)
      .filter((job) => isControlledBy(job, uid))
      .map((job) => ({ job, pods: pods.filter((pod) => isControlledBy(pod, job.metadata?.uid)) }));
  }
}
