import type { Condition } from '@lattice/crds';
import { changedConditions, findCondition, nextConditions, timestamp } from './conditions.js';

const earlier = '2026-01-01T00:00:00Z';
const now = new Date('2026-02-02T12:34:56.789Z');
const ready: Condition = { type: 'Ready', status: 'False', reason: 'Waiting', message: 'old', observedGeneration: 1, lastTransitionTime: earlier };

test('timestamps have second precision, as metav1.Time', () => {
  expect(timestamp(now)).toBe('2026-02-02T12:34:56Z');
});

test('a condition whose status stays keeps its transition time; reason, message and generation follow', () => {
  const [next] = nextConditions([ready], [{ type: 'Ready', status: 'False', reason: 'Other', message: 'new' }], 2, now);
  expect(next).toEqual({ type: 'Ready', status: 'False', reason: 'Other', message: 'new', observedGeneration: 2, lastTransitionTime: earlier });
});

test('a status change, or a new condition, is stamped now', () => {
  const next = nextConditions(
    [ready],
    [
      { type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: '' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
    ],
    1,
    now,
  );
  expect(next.map((c) => c.lastTransitionTime)).toEqual(['2026-02-02T12:34:56Z', '2026-02-02T12:34:56Z']);
});

test('the result is exactly the updates, in their order: conditions no longer stated are dropped', () => {
  const next = nextConditions([ready, { ...ready, type: 'Stale' }], [{ type: 'Ready', status: 'False', reason: 'Waiting', message: 'old' }], 1, now);
  expect(next.map((c) => c.type)).toEqual(['Ready']);
});

test('messages beyond the CRD limit are cut, not refused by the apiserver', () => {
  const [next] = nextConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'Long', message: 'x'.repeat(40_000) }], 1, now);
  expect(next!.message).toHaveLength(32_768);
});

test('changedConditions lists new conditions and changes of status or reason, not of message', () => {
  const next = nextConditions(
    [ready, { ...ready, type: 'Scheduled', status: 'True', reason: 'AllReplicasScheduled' }],
    [
      { type: 'Ready', status: 'False', reason: 'Waiting', message: 'a new message' },
      { type: 'Scheduled', status: 'False', reason: 'InsufficientCapacity', message: '' },
      { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' },
    ],
    1,
    now,
  );
  expect(changedConditions([ready, { ...ready, type: 'Scheduled', status: 'True', reason: 'AllReplicasScheduled' }], next).map((c) => c.type)).toEqual([
    'Scheduled',
    'Degraded',
  ]);
});

test('findCondition', () => {
  expect(findCondition([ready], 'Ready')).toBe(ready);
  expect(findCondition([ready], 'Scheduled')).toBeUndefined();
  expect(findCondition(undefined, 'Ready')).toBeUndefined();
});
