import { age, statusWord } from './status.js';

const workload = (spec: { suspend?: boolean }, phase?: 'Pending' | 'Building' | 'Running' | 'Stopped' | 'Failed') => ({
  metadata: { name: 'web' },
  spec,
  ...(phase && { status: { phase } }),
});

describe('statusWord', () => {
  test('follows the phase the operator reports', () => {
    expect(statusWord(workload({}, 'Running'))).toBe('running');
    expect(statusWord(workload({}, 'Failed'))).toBe('failed');
    expect(statusWord(workload({}, 'Stopped'))).toBe('stopped');
    expect(statusWord(workload({}, 'Building'))).toBe('pending');
  });

  test('is pending before any status, and stopped as soon as the user suspends', () => {
    expect(statusWord(workload({}))).toBe('pending');
    expect(statusWord(workload({ suspend: true }, 'Running'))).toBe('stopped');
  });
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
