// Pure status computation: what one container's Docker history says about its Kubernetes state,
// and the pod phase from its containers, as the kubelet computes them.
import type Docker from 'dockerode';
import type { ContainerState, ContainerStatus, Pod, PodStatus } from '@lattice/protocol';

/** One Docker container that ran (or runs) a pod's container. */
export interface ContainerRun {
  id: string;
  /** The image digest reference (repo@sha256:...) or image ID it runs. */
  imageId: string;
  running: boolean;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  /** Why it ended: Completed, Error, OOMKilled or StartError. */
  reason: string;
  message: string;
}

/** Everything the status of one pod container is computed from. */
export interface ContainerView {
  spec: { name: string; image: string };
  /** An init container (runs to completion before the app containers). */
  init: boolean;
  restartCount: number;
  /** The newest Docker container, running or ended. */
  current?: ContainerRun;
  /** The one before it (ended), kept for lastState and `logs --previous`. */
  previous?: ContainerRun;
  /** Why no container runs right now (pull failure, back-off...); overrides `current`. */
  waiting?: { reason: string; message: string };
  started: boolean;
  ready: boolean;
}

/** What Docker holds of one pod container across its restarts. */
export type ContainerHistory = Pick<ContainerView, 'restartCount' | 'current' | 'previous'>;

/** The container's last run completed (exit code 0) and nothing is to follow it. */
export function succeeded(view: ContainerView): boolean {
  return !view.waiting && view.current !== undefined && !view.current.running && view.current.exitCode === 0;
}

/** Kubernetes writes times at second precision; Docker's carry nanoseconds. */
export function rfc3339(time: string | number | Date): string {
  return new Date(time).toISOString().replace(/\.\d+Z$/, 'Z');
}

// Docker reports "0001-01-01T00:00:00Z" for a time that never happened. Kept to the
// millisecond: back-off is measured from it; statuses round it.
function dockerTime(time: string | undefined): string {
  return time && !time.startsWith('0001-') ? new Date(time).toISOString() : '';
}

const statusTime = (time: string) => (time ? rfc3339(time) : '');

/** The run a `docker inspect` describes. */
export function runFromInspect(info: Docker.ContainerInspectInfo, imageId: string): ContainerRun {
  const state = info.State;
  const exitCode = state.ExitCode;
  const reason = state.OOMKilled ? 'OOMKilled' : state.Error ? 'StartError' : exitCode === 0 ? 'Completed' : 'Error';
  return {
    id: info.Id,
    imageId,
    running: state.Running,
    startedAt: dockerTime(state.StartedAt),
    finishedAt: dockerTime(state.FinishedAt),
    exitCode,
    reason,
    message: state.Error ?? '',
  };
}

export function waitingState(reason: string, message = ''): ContainerState {
  return { state: 'waiting', waiting: { reason, message } };
}

function terminatedState(run: ContainerRun): ContainerState {
  const { exitCode, reason, message } = run;
  const times = { startedAt: statusTime(run.startedAt), finishedAt: statusTime(run.finishedAt) };
  return { state: 'terminated', terminated: { exitCode, reason, message, ...times } };
}

/**
 * The container's status. `notStarted` is the waiting reason while nothing was tried yet:
 * PodInitializing before the init containers are done, ContainerCreating after.
 */
export function containerStatus(view: ContainerView, notStarted: string): ContainerStatus {
  const { current, previous } = view;
  let state: ContainerState;
  let last = previous;
  if (view.waiting) {
    state = waitingState(view.waiting.reason, view.waiting.message);
    // Waiting to restart: the run that just ended is the last state, as `kubectl describe` shows.
    if (current && !current.running) last = current;
  } else if (current?.running) {
    state = { state: 'running', running: { startedAt: statusTime(current.startedAt) } };
  } else if (current) {
    state = terminatedState(current);
  } else {
    state = waitingState(notStarted);
  }
  const running = state.state === 'running';
  return {
    name: view.spec.name,
    state,
    lastState: last ? terminatedState(last) : null,
    ready: running && view.ready,
    started: running && view.started,
    restartCount: view.restartCount,
    image: view.spec.image,
    imageId: current?.imageId ?? previous?.imageId ?? '',
    containerId: current ? `docker://${current.id}` : '',
  };
}

/** The kubelet's getPhase, for pods without sidecar (restartable init) containers. */
export function podPhase(
  restartPolicy: Pod['restartPolicy'],
  init: readonly ContainerStatus[],
  app: readonly ContainerStatus[],
): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  let pendingInit = 0;
  let failedInit = 0;
  for (const s of init) {
    if (s.state.state === 'terminated') {
      if (s.state.terminated?.exitCode !== 0) failedInit++;
    } else if (s.state.state === 'waiting' && s.lastState?.state === 'terminated') {
      if (s.lastState.terminated?.exitCode !== 0) failedInit++;
    } else {
      pendingInit++;
    }
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of app) {
    if (s.state.state === 'running') {
      running++;
    } else if (s.state.state === 'terminated') {
      stopped++;
      if (s.state.terminated?.exitCode === 0) succeeded++;
    } else if (s.lastState?.state === 'terminated') {
      stopped++;
    } else {
      waiting++;
    }
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  if (pendingInit > 0 || failedInit > 0 || waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return restartPolicy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}

/** The pod's status from its containers, init containers first, in spec order. */
export function podStatus(
  pod: Pick<Pod, 'uid' | 'restartPolicy'>,
  containers: readonly ContainerView[],
  extra: { podIp: string; startTime: string; deleted: boolean },
): PodStatus {
  const init = containers
    .filter((c) => c.init)
    // An init container is ready once it completed.
    .map((c) => ({ ...containerStatus(c, 'PodInitializing'), ready: succeeded(c) }));
  const initialized = containers.every((c) => !c.init || succeeded(c));
  const app = containers.filter((c) => !c.init).map((c) => containerStatus(c, initialized ? 'ContainerCreating' : 'PodInitializing'));
  return {
    uid: pod.uid,
    phase: podPhase(pod.restartPolicy, init, app),
    reason: '',
    message: '',
    podIp: extra.podIp,
    startTime: extra.startTime,
    initContainerStatuses: init,
    containerStatuses: app,
    deleted: extra.deleted,
  };
}

/** The deletion of a pod the runtime never had the spec of: nothing else is known. */
export function deletedPodStatus(uid: string): PodStatus {
  return { uid, phase: 'Pending', reason: '', message: '', podIp: '', startTime: '', initContainerStatuses: [], containerStatuses: [], deleted: true };
}
