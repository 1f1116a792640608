import { MAX_CRON_WORKLOAD_NAME_LENGTH, type CronWorkload } from '@lattice/crds';
import { RUN_NOW_ANNOTATION, RUN_NOW_HANDLED_ANNOTATION, requestedRunNow, runName, scheduledAt, triggerAnnotations } from './runs.js';

const cronWorkload = (annotations?: Record<string, string>) => ({ metadata: { name: 'nightly', annotations } }) as CronWorkload;

describe('run names', () => {
  test('a scheduled run is named for its scheduled minute (Unix minutes)', () => {
    expect(runName('nightly', { scheduledAt: new Date('2026-01-01T02:30:00Z') })).toBe('nightly-29453910');
    expect(runName('nightly', { scheduledAt: new Date('2026-01-01T02:30:59.999Z') })).toBe('nightly-29453910');
  });

  test('a run by hand is named for the run-now value: the same value, the same run', () => {
    const a = runName('nightly', { runNow: '2026-01-01T10:00:00Z' });
    expect(a).toMatch(/^nightly-now-[0-9a-f]{8}$/);
    expect(runName('nightly', { runNow: '2026-01-01T10:00:00Z' })).toBe(a);
    expect(runName('nightly', { runNow: '2026-01-01T10:00:01Z' })).not.toBe(a);
  });

  test('the longest allowed CronWorkload name still gives Job names of at most 63 characters', () => {
    const longest = 'a'.repeat(MAX_CRON_WORKLOAD_NAME_LENGTH);
    expect(runName(longest, { scheduledAt: new Date('2150-01-01T00:00:00Z') }).length).toBeLessThanOrEqual(63);
    expect(runName(longest, { runNow: 'x' }).length).toBeLessThanOrEqual(63);
  });
});

describe('triggers', () => {
  test('a scheduled run carries its scheduled time, read back from the Job', () => {
    const time = new Date('2026-01-01T02:30:00Z');
    const job = { metadata: { annotations: triggerAnnotations({ scheduledAt: time }) } };
    expect(scheduledAt(job)).toEqual(time);
  });

  test('a run by hand carries the run-now value, and no scheduled time', () => {
    const job = { metadata: { annotations: triggerAnnotations({ runNow: 'please' }) } };
    expect(job.metadata.annotations).toEqual({ [RUN_NOW_ANNOTATION]: 'please' });
    expect(scheduledAt(job)).toBeUndefined();
  });
});

describe('run-now requests', () => {
  const request = (value?: string, handled?: string) =>
    requestedRunNow(cronWorkload({ ...(value !== undefined && { [RUN_NOW_ANNOTATION]: value }), ...(handled !== undefined && { [RUN_NOW_HANDLED_ANNOTATION]: handled }) }));

  test('a new value asks for a run', () => {
    expect(request('b', 'a')).toBe('b');
    expect(request('a')).toBe('a');
  });

  test('a handled value, an empty one or none asks for nothing', () => {
    expect(request('a', 'a')).toBeUndefined();
    expect(request('')).toBeUndefined();
    expect(request()).toBeUndefined();
  });
});
