import type { CronWorkloadStatus, RunRecord } from '@lattice/crds';
import type { History } from './history.js';
import { nextStatus } from './status.js';

const now = new Date('2026-01-01T10:05:30Z');
const noRuns: History = { all: [], records: [], active: [], expired: [] };
const failed: RunRecord = { name: 'nightly-1', result: 'Failed', exitCode: 3, startTime: '2026-01-01T10:00:00Z', completionTime: '2026-01-01T10:00:09Z', durationSeconds: 9 };
const succeeded: RunRecord = { name: 'nightly-2', result: 'Succeeded', exitCode: 0, startTime: '2026-01-01T10:05:00Z', completionTime: '2026-01-01T10:05:20Z', durationSeconds: 20 };

const condition = (status: CronWorkloadStatus, type: string) => status.conditions?.find((c) => c.type === type);

describe('status', () => {
  test('a CronWorkload on schedule is Ready, with the next run time', () => {
    const status = nextStatus({}, 4, { next: new Date('2026-01-01T10:10:00Z'), history: noRuns, now });
    expect(status).toMatchObject({ observedGeneration: 4, nextScheduleTime: '2026-01-01T10:10:00Z', active: [], history: [] });
    expect(condition(status, 'Ready')).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'Scheduled',
      message: 'runs start on schedule; the next run is due at 2026-01-01T10:10:00Z',
      observedGeneration: 4,
      lastTransitionTime: '2026-01-01T10:05:30Z',
    });
    expect(condition(status, 'Degraded')).toMatchObject({ status: 'False', reason: 'NoRunFinished' });
  });

  test('a suspended or unrunnable CronWorkload is not Ready and has no next run', () => {
    const suspended = nextStatus({}, 1, { notScheduling: { reason: 'Suspended', message: 'suspended' }, history: noRuns, now });
    expect(condition(suspended, 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect(suspended.nextScheduleTime).toBeUndefined();
  });

  test('the times only move forward: a run left out of the history keeps its time', () => {
    const previous: CronWorkloadStatus = { lastScheduleTime: '2026-01-01T10:05:00Z', lastSuccessfulTime: '2026-01-01T10:05:20Z' };
    const status = nextStatus(previous, 1, { history: { ...noRuns, lastSuccessfulTime: new Date('2026-01-01T09:00:00Z') }, now });
    expect(status).toMatchObject(previous);
    const moved = nextStatus(previous, 1, { lastScheduleTime: new Date('2026-01-01T10:10:00Z'), history: noRuns, now });
    expect(moved.lastScheduleTime).toBe('2026-01-01T10:10:00Z');
  });

  test('Degraded follows the run that finished last, with its exit code and the reason it failed', () => {
    const history: History = { ...noRuns, all: [failed], records: [failed], latestFinished: { record: failed, failure: 'Job has reached the specified backoff limit' } };
    const degraded = nextStatus({}, 1, { history, now });
    expect(condition(degraded, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'RunFailed',
      message: 'run nightly-1 failed with exit code 3: Job has reached the specified backoff limit; see kubectl logs job/nightly-1',
    });
    const recovered = nextStatus(degraded, 1, { history: { ...noRuns, latestFinished: { record: succeeded } }, now });
    expect(condition(recovered, 'Degraded')).toMatchObject({ status: 'False', reason: 'RunSucceeded', lastTransitionTime: '2026-01-01T10:05:30Z' });
  });

  test('with no finished run left to read, Degraded keeps its verdict and its transition time', () => {
    const earlier = new Date('2026-01-01T09:00:00Z');
    const history: History = { ...noRuns, latestFinished: { record: failed } };
    const degraded = nextStatus({}, 1, { history, now: earlier });
    const later = nextStatus(degraded, 1, { history: noRuns, now });
    expect(condition(later, 'Degraded')).toMatchObject({ status: 'True', reason: 'RunFailed', lastTransitionTime: '2026-01-01T09:00:00Z' });
  });
});
