// The builds of a Workload built from source: the Job of the current inputs is created when
// missing (once its credentials Secret is there, see credentials.ts), the last few older ones are
// kept (their pods hold the logs), and the state of the current one says which image the replicas
// run. The Workload reconciler calls it before it applies the Deployment.
import type * as k8s from '@kubernetes/client-node';
import type { Workload } from '@lattice/crds';
import type { Logger } from 'pino';
import type { Applier } from '../kube/apply.js';
import type { Cache } from '../kube/informer.js';
import { labelledInformer, type Scope } from '../kube/scoped-informers.js';
import { isControlledBy } from '../kube/owners.js';
import { credentialsProblem } from './credentials.js';
import { BUILD_OF_LABEL, buildJob, type BuildOptions } from './job.js';
import { blockedBuild, buildState, type BuildState } from './status.js';

/** Build Jobs kept per Workload, the current one included. */
export const KEPT_BUILDS = 3;

export class BuildCaches {
  readonly jobs: Cache<k8s.V1Job>;
  readonly pods: Cache<k8s.V1Pod>;
  /** The users' Secrets in scope (unlabelled): a build's credentials Secret may appear at any time. */
  readonly secrets: Cache<k8s.V1Secret>;

  constructor(scope: Scope) {
    this.jobs = labelledInformer(scope, 'jobs', BUILD_OF_LABEL);
    this.pods = labelledInformer(scope, 'pods', BUILD_OF_LABEL);
    this.secrets = labelledInformer(scope, 'secrets');
  }

  get all(): Cache<k8s.KubernetesObject>[] {
    return [this.jobs, this.pods, this.secrets];
  }
}

/** The Jobs that are older than the newest `keep`, never `current`. */
export function expiredBuilds(jobs: readonly k8s.V1Job[], current: string, keep = KEPT_BUILDS): k8s.V1Job[] {
  const time = (j: k8s.V1Job) => new Date(j.metadata?.creationTimestamp ?? 0).getTime();
  const others = jobs.filter((j) => j.metadata?.name !== current).sort((a, b) => time(b) - time(a) || a.metadata!.name!.localeCompare(b.metadata!.name!));
  return others.slice(Math.max(0, keep - 1));
}

export class Builds {
  constructor(
    private readonly caches: BuildCaches,
    private readonly applier: Applier,
    private readonly options: BuildOptions,
  ) {}

  /** Makes sure the build of the Workload's current inputs exists, and says how it goes. */
  async reconcile(wl: Workload, log: Logger): Promise<BuildState> {
    const { namespace, name, uid } = wl.metadata as { namespace: string; name: string; uid: string };
    const desired = buildJob(wl, this.options);
    const jobName = desired.metadata!.name!;
    let job = this.caches.jobs.get(jobName, namespace);
    if (!job) {
      const secret = wl.spec.source?.credentialsSecretRef?.name;
      const problem = credentialsProblem(wl, secret ? this.caches.secrets.get(secret, namespace) : undefined);
      if (problem) return blockedBuild(problem);
      job = await this.applier.apply(desired);
      log.info({ job: jobName }, 'build started');
    }
    const own = this.caches.jobs.list(namespace).filter((j) => j.metadata?.labels?.[BUILD_OF_LABEL] === name && isControlledBy(j, uid));
    for (const old of expiredBuilds(own, jobName)) {
      await this.applier.delete(old);
      log.info({ job: old.metadata?.name }, 'deleted an old build');
    }
    const pod = this.caches.pods
      .list(namespace)
      .find((p) => p.metadata?.labels?.['batch.kubernetes.io/job-name'] === jobName || p.metadata?.labels?.['job-name'] === jobName);
    return buildState(job, pod, wl.status?.build);
  }
}
