import type { WorkloadPhase } from '@lattice/crds';
import { age, problemOf, statusWord } from './status.js';

const workload = (spec: { suspend?: boolean }, phase?: WorkloadPhase) => ({
  plural: 'workloads' as const,
  object: { metadata: { name: 'web' }, spec, ...(phase && { status: { phase } }) },
});
const condition = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: `${type} ${reason}`, lastTransitionTime: '2026-01-01T00:00:00Z' });

describe('statusWord', () => {
  test('follows the phase the operator reports', () => {
    expect(statusWord(workload({}, 'Running'))).toBe('running');
    expect(statusWord(workload({}, 'Failed'))).toBe('failed');
    expect(statusWord(workload({}, 'Stopped'))).toBe('stopped');
    expect(statusWord(workload({}, 'Building'))).toBe('building');
    expect(statusWord(workload({}, 'Deploying'))).toBe('deploying');
  });

  test('is pending before any status, and stopped as soon as the user suspends', () => {
    expect(statusWord(workload({}))).toBe('pending');
    expect(statusWord(workload({ suspend: true }, 'Running'))).toBe('stopped');
  });

  test('a database being provisioned is deploying; a cron job with a failed run is failed', () => {
    expect(statusWord({ plural: 'postgresinstances', object: { metadata: { name: 'db' }, status: { phase: 'Provisioning' } } })).toBe('deploying');
    const cron = (conditions: ReturnType<typeof condition>[]) => ({ plural: 'cronworkloads' as const, object: { metadata: { name: 'c' }, status: { conditions } } });
    expect(statusWord(cron([condition('Ready', 'True', 'Scheduled')]))).toBe('running');
    expect(statusWord(cron([condition('Ready', 'True', 'Scheduled'), condition('Degraded', 'True', 'RunFailed')]))).toBe('failed');
  });
});

test('problemOf gives the condition that says what is wrong, and nothing while all is well', () => {
  expect(problemOf([condition('Ready', 'False', 'Progressing'), condition('Scheduled', 'False', 'InsufficientCapacity')])?.reason).toBe('InsufficientCapacity');
  expect(problemOf([condition('Ready', 'True', 'Running')])).toBeUndefined();
});

describe('age', () => {
  const now = Date.parse('2026-01-02T00:00:00Z');
  test('prints the largest unit as kubectl does', () => {
    expect(age('2026-01-01T23:59:15Z', now)).toBe('45s');
    expect(age('2026-01-01T23:30:00Z', now)).toBe('30m');
    expect(age('2026-01-01T00:00:00Z', now)).toBe('24h');
    expect(age('2025-12-28T00:00:00Z', now)).toBe('5d');
    expect(age(undefined, now)).toBe('unknown');
  });
});
