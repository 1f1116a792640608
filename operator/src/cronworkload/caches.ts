// The informers the CronWorkload controller reads from: CronWorkloads, and the Jobs and pods
// labelled with lattice.dev/cronworkload (only those: a cluster's other Jobs are none of its
// business). In one namespace, or in all.
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type CronWorkloadStatus } from '@lattice/crds';
import type { Logger } from 'pino';
import type { Cache } from '../kube/informer.js';
import { labelledInformer, latticeInformer } from '../kube/scoped-informers.js';
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
    const scope = { kc, namespace, log };
    this.cronWorkloads = latticeInformer<StoredCronWorkload>(scope, CRONWORKLOADS.plural);
    this.jobs = labelledInformer(scope, 'jobs', CRONWORKLOAD_LABEL);
    this.pods = labelledInformer(scope, 'pods', CRONWORKLOAD_LABEL);
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
