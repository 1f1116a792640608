import type Docker from 'dockerode';
import type { ContainerStatus } from '@lattice/protocol';
import { type ContainerRun, type ContainerView, containerStatus, podPhase, podStatus, rfc3339, runFromInspect, waitingState } from './status.js';

const run = (overrides: Partial<ContainerRun> = {}): ContainerRun => ({
  id: 'c1',
  imageId: 'reg/app@sha256:aa',
  running: false,
  startedAt: '2024-05-01T10:00:00.250Z',
  finishedAt: '2024-05-01T10:00:05.750Z',
  exitCode: 0,
  reason: 'Completed',
  message: '',
  ...overrides,
});

const view = (overrides: Partial<ContainerView> = {}): ContainerView => ({
  spec: { name: 'app', image: 'reg/app:1' },
  init: false,
  restartCount: 0,
  started: false,
  ready: false,
  ...overrides,
});

describe('container status', () => {
  it('waits with the given reason before anything ran', () => {
    expect(containerStatus(view(), 'PodInitializing')).toEqual({
      name: 'app',
      state: waitingState('PodInitializing'),
      lastState: null,
      ready: false,
      started: false,
      restartCount: 0,
      image: 'reg/app:1',
      imageId: '',
      containerId: '',
    });
  });

  it('reports a running container with its previous run, at second precision', () => {
    const status = containerStatus(
      view({ current: run({ id: 'c2', running: true }), previous: run({ exitCode: 3, reason: 'Error' }), restartCount: 1, started: true, ready: true }),
      'ContainerCreating',
    );
    expect(status).toMatchObject({
      state: { state: 'running', running: { startedAt: '2024-05-01T10:00:00Z' } },
      lastState: { state: 'terminated', terminated: { exitCode: 3, reason: 'Error', finishedAt: '2024-05-01T10:00:05Z' } },
      ready: true,
      started: true,
      restartCount: 1,
      imageId: 'reg/app@sha256:aa',
      containerId: 'docker://c2',
    });
  });

  it('shows the run that just ended as the last state while waiting to restart', () => {
    const status = containerStatus(
      view({ current: run({ exitCode: 1, reason: 'Error' }), previous: run({ id: 'c0' }), waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } }),
      'ContainerCreating',
    );
    expect(status.state).toEqual(waitingState('CrashLoopBackOff', 'back-off 10s'));
    expect(status.lastState?.terminated?.exitCode).toBe(1);
  });

  it('is never ready nor started unless running', () => {
    const status = containerStatus(view({ current: run(), ready: true, started: true }), 'ContainerCreating');
    expect(status).toMatchObject({ state: { state: 'terminated' }, ready: false, started: false });
  });
});

describe('pod status', () => {
  const extra = { podIp: '10.0.0.2', startTime: '2024-05-01T10:00:00Z', deleted: false };
  const init = (overrides: Partial<ContainerView> = {}) => view({ spec: { name: 'setup', image: 'reg/setup:1' }, init: true, ...overrides });

  it('shows the app containers PodInitializing until every init container completed', () => {
    const status = podStatus({ uid: 'u', restartPolicy: 'Always' }, [init({ current: run({ running: true }) }), view()], extra);
    expect(status.initContainerStatuses.map((c) => c.name)).toEqual(['setup']);
    expect(status.containerStatuses[0]?.state).toEqual(waitingState('PodInitializing'));
    expect(status).toMatchObject({ phase: 'Pending', podIp: '10.0.0.2', startTime: extra.startTime, deleted: false });
  });

  it('marks a completed init container ready and the app containers ContainerCreating', () => {
    const status = podStatus({ uid: 'u', restartPolicy: 'Always' }, [init({ current: run() }), view()], extra);
    expect(status.initContainerStatuses[0]?.ready).toBe(true);
    expect(status.containerStatuses[0]?.state).toEqual(waitingState('ContainerCreating'));
  });
});

describe('runs from docker inspect', () => {
  const inspect = (state: Partial<Docker.ContainerInspectInfo['State']>) =>
    ({ Id: 'abc', State: { Running: false, ExitCode: 0, StartedAt: '2024-05-01T10:00:00.123456789Z', FinishedAt: '0001-01-01T00:00:00Z', Error: '', OOMKilled: false, ...state } }) as Docker.ContainerInspectInfo;

  it('names why a run ended', () => {
    expect(runFromInspect(inspect({ ExitCode: 0 }), 'i').reason).toBe('Completed');
    expect(runFromInspect(inspect({ ExitCode: 2 }), 'i').reason).toBe('Error');
    expect(runFromInspect(inspect({ ExitCode: 137, OOMKilled: true }), 'i').reason).toBe('OOMKilled');
    expect(runFromInspect(inspect({ ExitCode: 127, Error: 'exec: "nope": not found' }), 'i')).toMatchObject({ reason: 'StartError', message: 'exec: "nope": not found' });
  });

  it('keeps times to the millisecond and drops Docker\'s zero time', () => {
    expect(runFromInspect(inspect({}), 'i')).toMatchObject({ startedAt: '2024-05-01T10:00:00.123Z', finishedAt: '' });
    expect(rfc3339('2024-05-01T10:00:00.999Z')).toBe('2024-05-01T10:00:00Z');
  });
});

describe('pod phase', () => {
  const running = { state: { state: 'running' } } as ContainerStatus;
  const waiting = { state: waitingState('ContainerCreating'), lastState: null } as ContainerStatus;
  const exited = (exitCode: number) => ({ state: { state: 'terminated', terminated: { exitCode } } }) as ContainerStatus;
  const crashLooping = { state: waitingState('CrashLoopBackOff'), lastState: { state: 'terminated', terminated: { exitCode: 1 } } } as ContainerStatus;

  it('is Pending while an init container runs or anything waits for its first start', () => {
    expect(podPhase('Always', [running], [waiting])).toBe('Pending');
    expect(podPhase('Always', [exited(0)], [waiting])).toBe('Pending');
    expect(podPhase('Always', [], [running, waiting])).toBe('Pending');
  });

  it('fails on a failed init container only when it will not be retried', () => {
    expect(podPhase('Never', [exited(1)], [waiting])).toBe('Failed');
    expect(podPhase('OnFailure', [exited(1)], [waiting])).toBe('Pending');
  });

  it('is Running while something runs or restarts', () => {
    expect(podPhase('Always', [exited(0)], [running])).toBe('Running');
    expect(podPhase('Always', [], [crashLooping])).toBe('Running');
    expect(podPhase('Always', [], [exited(0)])).toBe('Running');
    expect(podPhase('OnFailure', [], [exited(1), exited(0)])).toBe('Running');
  });

  it('ends Succeeded or Failed when nothing will run again', () => {
    expect(podPhase('OnFailure', [], [exited(0), exited(0)])).toBe('Succeeded');
    expect(podPhase('Never', [], [exited(0)])).toBe('Succeeded');
    expect(podPhase('Never', [], [exited(0), exited(2)])).toBe('Failed');
  });
});
