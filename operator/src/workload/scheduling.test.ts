import { workload } from './fixtures.js';
import { parseVerdict, unschedulable } from './scheduling.js';

const PREEMPTION = ' preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod.';

test('parseVerdict reads the node count and each filter, without the preemption part', () => {
  const message = "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 3 Insufficient cpu." + PREEMPTION;
  expect(parseVerdict(message)).toEqual({
    nodes: 4,
    reasons: [
      { count: 1, reason: "node(s) didn't match Pod's node affinity/selector" },
      { count: 3, reason: 'Insufficient cpu' },
    ],
    summary: "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 3 Insufficient cpu.",
  });
});

test('parseVerdict reads the first sentence of a Kubernetes 1.35 message', () => {
  const message =
    '0/21 nodes are available: 18 node(s) had untolerated taint(s), 3 Insufficient cpu. no new claims to deallocate, ' +
    'preemption: 0/21 nodes are available: 18 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.';
  expect(parseVerdict(message)).toEqual({
    nodes: 21,
    reasons: [
      { count: 18, reason: 'node(s) had untolerated taint(s)' },
      { count: 3, reason: 'Insufficient cpu' },
    ],
    summary: '0/21 nodes are available: 18 node(s) had untolerated taint(s), 3 Insufficient cpu.',
  });
});

test('parseVerdict keeps a taint with its braces as one reason', () => {
  const { reasons } = parseVerdict('0/2 nodes are available: 2 node(s) had untolerated taint {lattice.dev/outside-hours: true}.');
  expect(reasons).toEqual([{ count: 2, reason: 'node(s) had untolerated taint {lattice.dev/outside-hours: true}' }]);
});

test('parseVerdict keeps a message of another shape as its summary', () => {
  expect(parseVerdict('no nodes available to schedule pods')).toEqual({ reasons: [], summary: 'no nodes available to schedule pods' });
});

describe('unschedulable', () => {
  const big = workload({ replicas: 3, resources: { cpu: '64', memory: '256Gi' } }).spec;

  test('insufficient capacity says what a replica asks for, why no provider fits, and what to do', () => {
    const verdict = unschedulable(big, '0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory.' + PREEMPTION, 3, 3);
    expect(verdict.reason).toBe('InsufficientCapacity');
    expect(verdict.message).toBe(
      '3 of 3 replicas cannot be placed: each replica asks for 64 CPU and 256Gi memory, and no provider has that much free: ' +
        '3 nodes lack free cpu; 3 nodes lack free memory ' +
        '(scheduler: "0/3 nodes are available: 3 Insufficient cpu, 3 Insufficient memory."). ' +
        'Lower spec.resources, or add a provider with more free capacity; the replicas start as soon as one fits.',
    );
  });

  test('capacity wins over other filters: some nodes were eligible and too small', () => {
    const verdict = unschedulable(big, "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 3 Insufficient cpu.", 1, 3);
    expect(verdict.reason).toBe('InsufficientCapacity');
    expect(verdict.message).toContain('1 of 3 replicas cannot be placed');
    expect(verdict.message).toContain('1 node is not a provider node; 3 nodes lack free cpu');
  });

  test('no eligible provider names the provider selector', () => {
    const spec = workload({ placement: { providerSelector: { region: 'mars' } } }).spec;
    const verdict = unschedulable(spec, "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.", 1, 1);
    expect(verdict.reason).toBe('NoMatchingProvider');
    expect(verdict.message).toContain('2 nodes are not providers matching spec.placement.providerSelector {"region":"mars"}');
    expect(verdict.message).toContain('Check spec.placement.providerSelector.');
  });

  test('providers outside their hours or offline are named as such', () => {
    const spec = workload({}).spec;
    const verdict = unschedulable(
      spec,
      '0/3 nodes are available: 1 node(s) had untolerated taint {lattice.dev/outside-hours: true}, 2 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.',
      1,
      1,
    );
    expect(verdict.reason).toBe('NoMatchingProvider');
    expect(verdict.message).toContain("1 node is outside the provider's availability hours; 2 nodes are not ready (provider offline)");
  });

  test('tainted nodes without a key (1.35) are explained generally', () => {
    const verdict = unschedulable(workload({}).spec, '0/18 nodes are available: 18 node(s) had untolerated taint(s). no new claims to deallocate,', 1, 1);
    expect(verdict.reason).toBe('NoMatchingProvider');
    expect(verdict.message).toContain('18 nodes have a taint the replicas do not tolerate (offline, outside availability hours, cordoned or reserved)');
  });

  test('an empty cluster has no providers', () => {
    expect(unschedulable(workload({}).spec, 'no nodes available to schedule pods', 1, 1).reason).toBe('NoProviders');
    expect(unschedulable(workload({}).spec, '0/0 nodes are available.', 1, 1).reason).toBe('NoProviders');
  });

  test('anything else is Unschedulable, with the scheduler words', () => {
    const verdict = unschedulable(workload({}).spec, '0/1 nodes are available: 1 node(s) had volume node affinity conflict.', 1, 1);
    expect(verdict).toEqual({
      reason: 'Unschedulable',
      message:
        '1 of 1 replicas cannot be placed: 1 node: node(s) had volume node affinity conflict ' +
        '(scheduler: "0/1 nodes are available: 1 node(s) had volume node affinity conflict.").',
    });
  });
});
