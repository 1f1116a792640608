import type * as k8s from '@kubernetes/client-node';
import { workload } from './fixtures.js';
import { deployment } from './objects.js';
import { assess, type Verdict } from './status.js';

const options = { providerLossTimeoutSeconds: 60 };
const web = workload({ replicas: 2, ports: [{ name: 'http', port: 8080 }] });

/** The Deployment as Kubernetes reports it, rolled out to `updated` replicas of which `available` are available. */
function observedDeployment(status: k8s.V1DeploymentStatus, generation = 1): k8s.V1Deployment {
  const d = deployment(web, options);
  return { ...d, metadata: { ...d.metadata, generation }, status: { observedGeneration: generation, ...status } };
}

type PodState = { node?: string; ready?: boolean; unschedulable?: string; waiting?: string; terminating?: boolean };

function pod(name: string, state: PodState): k8s.V1Pod {
  return {
    metadata: { name, labels: { 'lattice.dev/workload': 'web' }, deletionTimestamp: state.terminating ? new Date() : undefined },
    spec: { nodeName: state.node, containers: [] },
    status: {
      phase: state.ready ? 'Running' : 'Pending',
      conditions: [
        state.unschedulable
          ? { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: state.unschedulable }
          : { type: 'PodScheduled', status: state.node ? 'True' : 'False' },
        { type: 'Ready', status: state.ready ? 'True' : 'False' },
      ],
      containerStatuses: state.waiting ? [{ name: 'app', image: '', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: state.waiting, message: 'back-off 40s' } } }] : undefined,
    },
  };
}

const byType = (conditions: Verdict[]) => Object.fromEntries(conditions.map((c) => [c.type, `${c.status} ${c.reason}`]));

test('all replicas ready: Running, with the pods, their nodes and the Service URL', () => {
  const a = assess(web, {
    owner: observedDeployment({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }),
    pods: [pod('web-1', { node: 'p2', ready: true }), pod('web-2', { node: 'p1', ready: true })],
  });
  expect(a.status).toEqual({ phase: 'Running', replicas: 2, readyReplicas: 2, nodes: ['p1', 'p2'], endpoints: [{ port: 'http', url: 'http://web.shop.svc:8080' }] });
  expect(byType(a.conditions)).toEqual({
    Ready: 'True AllReplicasReady',
    Scheduled: 'True AllReplicasScheduled',
    Progressing: 'False RolloutComplete',
    Degraded: 'False AsExpected',
  });
});

test('placed but not started: Deploying, and Ready says why per provider', () => {
  const a = assess(web, {
    owner: observedDeployment({ replicas: 2, updatedReplicas: 2 }),
    pods: [pod('web-1', { node: 'p1' }), pod('web-2', { node: 'p2' })],
  });
  expect(a.status.phase).toBe('Deploying');
  expect(byType(a.conditions)).toMatchObject({ Ready: 'False ReplicasNotReady', Scheduled: 'True AllReplicasScheduled', Progressing: 'True WaitingForReplicas' });
  expect(a.conditions[0]!.message).toBe('0 of 2 replicas are ready. Waiting for the provider to start it: web-1 on p1, web-2 on p2.');
});

test('no provider fits: Pending, Scheduled=False InsufficientCapacity with the scheduler verdict, as a warning', () => {
  const verdict = '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';
  const a = assess(web, {
    owner: observedDeployment({ replicas: 2, updatedReplicas: 2 }),
    pods: [pod('web-1', { unschedulable: verdict }), pod('web-2', { unschedulable: verdict })],
  });
  expect(a.status.phase).toBe('Pending');
  const scheduled = a.conditions.find((c) => c.type === 'Scheduled')!;
  expect(scheduled).toMatchObject({ status: 'False', reason: 'InsufficientCapacity', warning: true });
  expect(scheduled.message).toContain('2 of 2 replicas cannot be placed: each replica asks for 250m CPU and 256Mi memory');
  expect(scheduled.message).toContain('(scheduler: "0/3 nodes are available: 3 Insufficient memory.")');
  expect(a.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'InsufficientCapacity' });
});

test('replicas not yet placed and not refused are Scheduling', () => {
  const a = assess(web, { owner: observedDeployment({ replicas: 1 }), pods: [pod('web-1', { node: 'p1' })] });
  expect(byType(a.conditions)).toMatchObject({ Scheduled: 'False Scheduling', Ready: 'False ReplicasNotReady' });
  expect(a.conditions.find((c) => c.type === 'Scheduled')!.message).toBe('1 of 2 replicas are waiting to be placed on a provider.');
});

test('terminating pods do not count', () => {
  const a = assess(web, {
    owner: observedDeployment({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }),
    pods: [pod('web-1', { node: 'p1', ready: true }), pod('web-2', { node: 'p2', ready: true }), pod('web-0', { node: 'p3', ready: true, terminating: true })],
  });
  expect(a.status).toMatchObject({ replicas: 2, readyReplicas: 2, nodes: ['p1', 'p2'] });
});

test('a rollout keeps Ready while the old replicas serve', () => {
  const a = assess(web, {
    owner: observedDeployment({ replicas: 3, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2 }, 2),
    pods: [pod('old-1', { node: 'p1', ready: true }), pod('old-2', { node: 'p2', ready: true }), pod('new-1', { node: 'p3' })],
  });
  expect(byType(a.conditions)).toMatchObject({ Ready: 'True AllReplicasReady', Progressing: 'True RollingOut' });
  expect(a.status.phase).toBe('Running');
});

test('a change Kubernetes has not picked up yet is Progressing', () => {
  const owner = observedDeployment({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 }, 2);
  expect(byType(assess(web, { owner, pods: [] }).conditions).Progressing).toBe('True RolloutStarted');
});

test('crash-looping replicas are Degraded, by their reason', () => {
  const a = assess(web, {
    owner: observedDeployment({ replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 }),
    pods: [pod('web-1', { node: 'p1', ready: true }), pod('web-2', { node: 'p2', waiting: 'CrashLoopBackOff' })],
  });
  expect(a.conditions.find((c) => c.type === 'Degraded')).toMatchObject({
    status: 'True',
    reason: 'CrashLoopBackOff',
    message: '1 replicas are failing: web-2: CrashLoopBackOff (back-off 40s).',
    warning: true,
  });
  expect(a.conditions[0]!.message).toContain('Waiting (CrashLoopBackOff: back-off 40s): web-2 on p2.');
});

test('a stalled rollout is Failed', () => {
  const owner = observedDeployment({
    replicas: 2,
    updatedReplicas: 2,
    conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'ReplicaSet "web-abc" has timed out progressing.' }],
  });
  const a = assess(web, { owner, pods: [] });
  expect(a.status.phase).toBe('Failed');
  expect(byType(a.conditions)).toMatchObject({ Progressing: 'False ProgressDeadlineExceeded' });
});

test('suspended: Stopped, not Ready, nothing to schedule', () => {
  const suspended = workload({ replicas: 2, suspend: true });
  const a = assess(suspended, { owner: observedDeployment({ replicas: 0 }), pods: [] });
  expect(a.status).toMatchObject({ phase: 'Stopped', replicas: 0, readyReplicas: 0 });
  expect(byType(a.conditions)).toEqual({
    Ready: 'False Suspended',
    Scheduled: 'True Suspended',
    Progressing: 'False RolloutComplete',
    Degraded: 'False AsExpected',
  });
  expect(a.status.nodes).toBeUndefined();
});

test('a refused change is Degraded with its reason', () => {
  const a = assess(web, { owner: observedDeployment({ replicas: 2 }), pods: [], refusal: { reason: 'VolumesImmutable', message: 'no' } });
  expect(byType(a.conditions).Degraded).toBe('True VolumesImmutable');
});
