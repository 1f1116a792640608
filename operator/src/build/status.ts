// What a Workload's build says: from its Job (as the Job controller reports it) and the Job's pod
// (whose container's termination message carries the result the agent reported). Pure, so every
// rule is unit-tested.
import type * as k8s from '@kubernetes/client-node';
import type { BuildStatus } from '@lattice/crds';
import { BUILD_ENV, BuildResultSchema, type BuildResult } from '@lattice/protocol';
import { READY, SCHEDULED, type Assessment, type Verdict } from '../workload/status.js';

export const BUILT = 'Built';

export type BuildPhase = 'Building' | 'Succeeded' | 'Failed';

export interface BuildState {
  phase: BuildPhase;
  /** The image built, by digest (Succeeded only). */
  image?: string;
  condition: Verdict;
  status: BuildStatus;
}

function finished(job: k8s.V1Job, type: 'Complete' | 'Failed'): k8s.V1JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

/** The result the agent reported as the build container's termination message. */
export function buildResult(pod: k8s.V1Pod | undefined): BuildResult | undefined {
  const message = pod?.status?.containerStatuses?.[0]?.state?.terminated?.message;
  if (!message) return undefined;
  try {
    const parsed = BuildResultSchema.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Whether `image` is one the build of `job` may have made: its own repository (the one the Job
 * asked it to push to), by digest. The result comes from a provider, who must not choose what runs.
 */
function ownImage(job: k8s.V1Job, image: string): boolean {
  const repository = job.spec?.template?.spec?.containers?.[0]?.env?.find((e) => e.name === BUILD_ENV.repository)?.value;
  return !!repository && image.startsWith(`${repository}@`) && DIGEST.test(image.slice(repository.length + 1));
}

const iso = (t: Date | string | undefined) => (t === undefined ? undefined : new Date(t).toISOString().replace(/\.\d+Z$/, 'Z'));

/**
 * The state of the build `job`, its pod, and what the status said of it before (the result
 * outlives the pod there: a pod may be lost once the Job finished).
 */
export function buildState(job: k8s.V1Job, pod: k8s.V1Pod | undefined, previous: BuildStatus | undefined): BuildState {
  const name = job.metadata!.name!;
  const logs = `kubectl logs -n ${job.metadata?.namespace} job/${name}`;
  const remembered = (previous as { job?: string } | undefined)?.job === name ? previous : undefined;
  const result = buildResult(pod);
  const startedAt = iso(job.status?.startTime ?? job.metadata?.creationTimestamp);
  const complete = finished(job, 'Complete');
  const failed = finished(job, 'Failed');
  const base = { job: name, startedAt, commit: result?.commit ?? remembered?.commit };

  if (complete) {
    if (result?.image && !ownImage(job, result.image)) {
      const message = `Build ${name} reported the image ${result.image}, which is not its own repository's by digest: it is not run. Ask for a rebuild with: lattice build ${job.metadata?.labels?.['lattice.dev/build-of']}`;
      return { phase: 'Failed', status: { ...base, message }, condition: { type: BUILT, status: 'False', reason: 'BuildFailed', message, warning: true } };
    }
    const image = result?.image ?? remembered?.image;
    if (image) {
      const status = {
        ...base,
        image,
        completedAt: iso(job.status?.completionTime ?? complete.lastTransitionTime),
        durationSeconds: result?.durationSeconds ?? remembered?.durationSeconds,
        message: `Built commit ${base.commit?.slice(0, 12)} into ${image}.`,
      };
      return { phase: 'Succeeded', image, status, condition: { type: BUILT, status: 'True', reason: 'BuildSucceeded', message: status.message } };
    }
    // Completed without a readable result: nothing can be run from it.
    const message = `Build ${name} completed but reported no image (its pod is gone or its result unreadable). Ask for a rebuild with: lattice build ${job.metadata?.labels?.['lattice.dev/build-of']}`;
    return { phase: 'Failed', status: { ...base, message }, condition: { type: BUILT, status: 'False', reason: 'BuildFailed', message, warning: true } };
  }
  if (failed) {
    const why =
      failed.reason === 'DeadlineExceeded'
        ? `The build took longer than its time limit and was stopped. ${logs}`
        : (result?.error ?? remembered?.message ?? `${failed.message ?? 'The build failed'}. ${logs}`);
    const message = `Build of ${base.commit ? `commit ${base.commit.slice(0, 12)}` : 'the source'} failed: ${why}`;
    const status = { ...base, completedAt: iso(failed.lastTransitionTime), durationSeconds: result?.durationSeconds, message };
    return { phase: 'Failed', status, condition: { type: BUILT, status: 'False', reason: 'BuildFailed', message, warning: true } };
  }
  const unschedulable = pod?.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unschedulable) {
    const message = `Build ${name} waits for a provider with room for it (--build-cpu and --build-memory of the operator): ${unschedulable.message ?? ''}`.trim();
    return { phase: 'Building', status: { ...base, message }, condition: { type: BUILT, status: 'False', reason: 'BuildPending', message } };
  }
  const message = `Building ${job.metadata?.annotations?.['lattice.dev/source'] ?? 'the source'} (Job ${name}); follow it with: ${logs} -f`;
  return { phase: 'Building', status: { ...base, message }, condition: { type: BUILT, status: 'False', reason: 'Building', message } };
}

/** The build of the current inputs cannot start (its Job is not made): `problem` says why. */
export function blockedBuild(problem: string): BuildState {
  const message = `The build cannot start: ${problem}.`;
  return { phase: 'Failed', status: { message }, condition: { type: BUILT, status: 'False', reason: 'CredentialsMissing', message, warning: true } };
}

/** The status of a Workload whose first build has not produced an image yet. */
export function awaitingFirstImage(build: BuildState): Assessment {
  const failed = build.phase === 'Failed';
  return {
    status: { phase: failed ? 'Failed' : 'Building', replicas: 0, readyReplicas: 0, build: build.status },
    conditions: [
      {
        type: READY,
        status: 'False',
        reason: failed ? build.condition.reason : 'Building',
        message: failed ? `Nothing runs: ${build.condition.message}` : `Nothing runs until the first build is done. ${build.condition.message}`,
        warning: failed,
      },
      build.condition,
    ],
  };
}

/**
 * The replicas' status with the build's: Building while a build runs (the replicas of the previous
 * image keep serving meanwhile, and after a failed build).
 */
export function withBuild(assessment: Assessment, build: BuildState): Assessment {
  return {
    status: { ...assessment.status, phase: phaseWithBuild(assessment, build), build: build.status },
    conditions: [...assessment.conditions, build.condition],
  };
}

/**
 * Building while a build runs. Once built, replicas that only wait to be placed are Deploying
 * (what a user expects after Building), not Pending; a placement problem still says Pending.
 */
function phaseWithBuild(assessment: Assessment, build: BuildState): Assessment['status']['phase'] {
  if (build.phase === 'Building') return 'Building';
  const scheduled = assessment.conditions.find((c) => c.type === SCHEDULED);
  return assessment.status.phase === 'Pending' && scheduled?.reason === 'Scheduling' ? 'Deploying' : assessment.status.phase;
}
