// What a Workload's status says, derived only from what is observed: its Deployment or
// StatefulSet (as Kubernetes' controllers report it) and its pods (as the scheduler and the
// providers report them). Pure, so every rule here is unit-tested.
import type * as k8s from '@kubernetes/client-node';
import type { Workload, WorkloadPhase, WorkloadStatus } from '@lattice/crds';
import type { ConditionUpdate } from '../controller/conditions.js';
import { desiredReplicas, endpoints, type ReplicaSetOwner } from './objects.js';
import { unschedulable } from './scheduling.js';
import { withTailnetEndpoints } from './tailnet.js';

export const READY = 'Ready';
export const SCHEDULED = 'Scheduled';
export const PROGRESSING = 'Progressing';
export const DEGRADED = 'Degraded';

/** A condition, and whether reaching it is worth a Warning event. */
export interface Verdict extends ConditionUpdate {
  warning?: boolean;
}

/** The status fields besides conditions, and the conditions to set. */
export interface Assessment {
  status: Omit<WorkloadStatus, 'conditions' | 'observedGeneration'>;
  conditions: Verdict[];
}

/** Container states that will not fix themselves without a change to the spec or the image. */
const FAILING = new Set([
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'ErrImagePull',
  'InvalidImageName',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

export interface Observed {
  /** The Deployment or StatefulSet as just applied. */
  owner: ReplicaSetOwner;
  /** The Workload's pods. */
  pods: readonly k8s.V1Pod[];
  /** Why a change could not be applied as asked (it is reported as Degraded). */
  refusal?: { reason: string; message: string };
  /** Where the ports are reachable (default: inside the cluster), and the first public URL. */
  endpoints?: { port: string; url: string }[];
  url?: string;
  /** Whether the public URL answered through the ingress, checked once every replica is ready. */
  publicCheck?: { answered: boolean; message: string };
}

export function assess(wl: Workload, observed: Observed): Assessment {
  const desired = desiredReplicas(wl.spec);
  const live = observed.pods.filter((p) => !p.metadata?.deletionTimestamp);
  const ready = live.filter(isPodReady);
  const nodes = [...new Set(live.map((p) => p.spec?.nodeName).filter((n): n is string => !!n))].sort();
  const stopped = wl.spec.suspend
    ? { reason: 'Suspended', message: 'spec.suspend is true: no replica runs, volumes are kept. Set it to false to start again.' }
    : desired === 0
      ? { reason: 'ScaledToZero', message: 'spec.replicas is 0: no replica runs, volumes are kept.' }
      : undefined;

  const scheduled = stopped ? { type: SCHEDULED, status: 'True' as const, ...stopped } : scheduledVerdict(wl, live, desired, nodes);
  const progressing = progressingVerdict(observed.owner, desired);
  const degraded = degradedVerdict(observed.owner, live, observed.refusal);
  const unanswered = observed.publicCheck?.answered === false ? observed.publicCheck : undefined;
  const readyVerdict: Verdict = stopped
    ? { type: READY, status: 'False', ...stopped }
    : ready.length >= desired && unanswered
      ? { type: READY, status: 'False', reason: 'PublicURLNotAnswering', message: `${ready.length} of ${desired} replicas are ready, but ${unanswered.message}.` }
    : ready.length >= desired
      ? { type: READY, status: 'True', reason: 'AllReplicasReady', message: `${ready.length} of ${desired} replicas are ready.${observed.url ? ` ${observed.url} answers.` : ''}` }
      : scheduled.status === 'False' && scheduled.reason !== 'Scheduling'
        ? { type: READY, status: 'False', reason: scheduled.reason, message: `${ready.length} of ${desired} replicas are ready. ${scheduled.message}`, warning: true }
        : { type: READY, status: 'False', reason: 'ReplicasNotReady', message: `${ready.length} of ${desired} replicas are ready. ${notReadyReasons(live)}`.trim() };

  const phase: WorkloadPhase = stopped
    ? 'Stopped'
    : progressing.reason === 'ProgressDeadlineExceeded'
      ? 'Failed'
      : readyVerdict.status === 'True'
        ? 'Running'
        : scheduled.status !== 'True' && ready.length === 0
          ? 'Pending'
          : 'Deploying';

  return {
    status: {
      phase,
      replicas: live.length,
      readyReplicas: ready.length,
      // Empty lists are left out, as Kubernetes writes them.
      nodes: nodes.length ? nodes : undefined,
      endpoints: wl.spec.ports?.length ? withTailnetEndpoints(wl, live, observed.endpoints ?? endpoints(wl)) : undefined,
      url: observed.url,
    },
    conditions: [readyVerdict, scheduled, progressing, degraded],
  };
}

/** The status of a Workload that cannot be run as written. */
export function invalid(reason: string, message: string): Assessment {
  return {
    status: { phase: 'Failed' },
    conditions: [{ type: READY, status: 'False', reason, message, warning: true }],
  };
}

function scheduledVerdict(wl: Workload, live: readonly k8s.V1Pod[], desired: number, nodes: string[]): Verdict {
  const waiting = live.filter((p) => !p.spec?.nodeName);
  const verdict = waiting
    .map((p) => p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable'))
    .find((c) => c !== undefined);
  if (verdict) {
    return { type: SCHEDULED, status: 'False', ...unschedulable(wl.spec, verdict.message ?? '', waiting.length, desired), warning: true };
  }
  const placed = live.length - waiting.length;
  if (placed < desired) {
    return { type: SCHEDULED, status: 'False', reason: 'Scheduling', message: `${desired - placed} of ${desired} replicas are waiting to be placed on a provider.` };
  }
  return { type: SCHEDULED, status: 'True', reason: 'AllReplicasScheduled', message: `All ${desired} replicas are placed, on ${nodes.join(', ')}.` };
}

function progressingVerdict(owner: ReplicaSetOwner, desired: number): Verdict {
  const what = `${owner.kind} ${owner.metadata?.name}`;
  const status = owner.status ?? {};
  if ((status.observedGeneration ?? 0) < (owner.metadata?.generation ?? 1)) {
    return { type: PROGRESSING, status: 'True', reason: 'RolloutStarted', message: `${what} is taking up the latest change.` };
  }
  const stalled = (owner.status?.conditions as k8s.V1DeploymentCondition[] | undefined)?.find(
    (c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (stalled) {
    return { type: PROGRESSING, status: 'False', reason: 'ProgressDeadlineExceeded', message: `The rollout stalled: ${stalled.message}`, warning: true };
  }
  const updated = status.updatedReplicas ?? 0;
  const existing = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < desired) {
    return { type: PROGRESSING, status: 'True', reason: 'RollingOut', message: `${updated} of ${desired} replicas run the current spec.` };
  }
  if (existing > desired) {
    return { type: PROGRESSING, status: 'True', reason: 'ScalingDown', message: `${existing - desired} replicas are being stopped.` };
  }
  if (available < desired) {
    return { type: PROGRESSING, status: 'True', reason: 'WaitingForReplicas', message: `${available} of ${desired} replicas are available.` };
  }
  return {
    type: PROGRESSING,
    status: 'False',
    reason: 'RolloutComplete',
    message: desired === 0 ? 'No replica runs.' : `All ${desired} replicas run the current spec and are available.`,
  };
}

function degradedVerdict(owner: ReplicaSetOwner, live: readonly k8s.V1Pod[], refusal: Observed['refusal']): Verdict {
  if (refusal) return { type: DEGRADED, status: 'True', ...refusal, warning: true };
  const conditions = (owner.status?.conditions ?? []) as k8s.V1DeploymentCondition[];
  const failedCreate = conditions.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  if (failedCreate) {
    return { type: DEGRADED, status: 'True', reason: 'FailedCreate', message: `Replicas cannot be created: ${failedCreate.message}`, warning: true };
  }
  const failing = live.flatMap((pod) =>
    (pod.status?.containerStatuses ?? [])
      .map((c) => c.state?.waiting)
      .filter((w): w is k8s.V1ContainerStateWaiting => w?.reason !== undefined && FAILING.has(w.reason))
      .map((w) => ({ pod: pod.metadata?.name, reason: w.reason!, message: w.message })),
  );
  if (failing.length > 0) {
    const first = failing[0]!;
    const details = failing.map((f) => `${f.pod}: ${f.reason}${f.message ? ` (${f.message})` : ''}`).join('; ');
    return { type: DEGRADED, status: 'True', reason: first.reason, message: `${failing.length} replicas are failing: ${details}.`, warning: true };
  }
  return { type: DEGRADED, status: 'False', reason: 'AsExpected', message: 'No replica is failing.' };
}

export function isPodReady(pod: k8s.V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Why placed replicas are not ready, grouped so that three identical replicas make one line. */
function notReadyReasons(live: readonly k8s.V1Pod[]): string {
  const groups = new Map<string, string[]>();
  for (const pod of live) {
    if (!pod.spec?.nodeName || isPodReady(pod)) continue;
    const why = notReadyReason(pod);
    groups.set(why, [...(groups.get(why) ?? []), `${pod.metadata?.name} on ${pod.spec.nodeName}`]);
  }
  return [...groups].map(([why, pods]) => `${why}: ${pods.join(', ')}.`).join(' ');
}

function notReadyReason(pod: k8s.V1Pod): string {
  const container = pod.status?.containerStatuses?.[0];
  const waiting = container?.state?.waiting;
  if (waiting?.reason) return `Waiting (${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''})`;
  const terminated = container?.state?.terminated;
  if (terminated) return `Exited with status ${terminated.exitCode}${terminated.reason ? ` (${terminated.reason})` : ''}`;
  if (container?.state?.running) return 'Running, not passing its health check yet';
  return 'Waiting for the provider to start it';
}
