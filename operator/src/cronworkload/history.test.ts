import type * as k8s from '@kubernetes/client-node';
import { history, type Run } from './history.js';

type Outcome = 'Complete' | 'Failed' | 'Running';

/** A run's Job as the Job controller leaves it, with one pod per attempt and their exit codes. */
function run(name: string, start: string, outcome: Outcome, exitCodes: number[] = [], end?: string): Run {
  const uid = `uid-${name}`;
  const conditions: k8s.V1JobCondition[] =
    outcome === 'Running'
      ? []
      : [{ type: outcome, status: 'True', lastTransitionTime: new Date(end!), message: outcome === 'Failed' ? 'Job has reached the specified backoff limit' : undefined }];
  const job: k8s.V1Job = {
    metadata: { name, uid, creationTimestamp: new Date(start) },
    status: { startTime: new Date(start), completionTime: outcome === 'Complete' ? new Date(end!) : undefined, conditions },
  };
  const pods = exitCodes.map(
    (exitCode, i): k8s.V1Pod => ({
      metadata: { name: `${name}-${i}`, creationTimestamp: new Date(Date.parse(start) + i * 1000) },
      status: { containerStatuses: [{ name: 'run', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, containerID: '' } } }] },
    }),
  );
  return { job, pods };
}

const limits = { successfulRunsHistoryLimit: 2, failedRunsHistoryLimit: 1 };

describe('run records', () => {
  test('tell how each run ended, its exit code and how long it took', () => {
    const { records } = history(
      [
        run('a-1', '2026-01-01T10:00:00Z', 'Complete', [0], '2026-01-01T10:00:42Z'),
        run('a-2', '2026-01-01T10:05:00Z', 'Failed', [1, 3], '2026-01-01T10:05:30Z'),
        run('a-3', '2026-01-01T10:10:00Z', 'Running'),
      ],
      limits,
    );
    expect(records).toEqual([
      { name: 'a-3', startTime: '2026-01-01T10:10:00Z', completionTime: undefined, result: 'Running', exitCode: undefined, durationSeconds: undefined },
      // The last attempt's exit code: the one that decided the outcome.
      { name: 'a-2', startTime: '2026-01-01T10:05:00Z', completionTime: '2026-01-01T10:05:30Z', result: 'Failed', exitCode: 3, durationSeconds: 30 },
      { name: 'a-1', startTime: '2026-01-01T10:00:00Z', completionTime: '2026-01-01T10:00:42Z', result: 'Succeeded', exitCode: 0, durationSeconds: 42 },
    ]);
  });

  test('read timestamps that a watch event delivered as strings', () => {
    const r = run('a-1', '2026-01-01T10:00:00Z', 'Complete', [0], '2026-01-01T10:00:42Z');
    const fromWatch = JSON.parse(JSON.stringify(r)) as Run;
    expect(history([fromWatch], limits).records[0]).toMatchObject({ startTime: '2026-01-01T10:00:00Z', durationSeconds: 42 });
  });

  test('leave out runs being deleted', () => {
    const r = run('a-1', '2026-01-01T10:00:00Z', 'Running');
    r.job.metadata!.deletionTimestamp = new Date('2026-01-01T10:01:00Z');
    expect(history([r], limits)).toMatchObject({ all: [], records: [], active: [] });
  });
});

describe('history limits', () => {
  const runs = [
    run('s-1', '2026-01-01T10:00:00Z', 'Complete', [0], '2026-01-01T10:01:00Z'),
    run('f-1', '2026-01-01T10:05:00Z', 'Failed', [1], '2026-01-01T10:06:00Z'),
    run('s-2', '2026-01-01T10:10:00Z', 'Complete', [0], '2026-01-01T10:11:00Z'),
    run('f-2', '2026-01-01T10:15:00Z', 'Failed', [2], '2026-01-01T10:16:00Z'),
    run('s-3', '2026-01-01T10:20:00Z', 'Complete', [0], '2026-01-01T10:21:00Z'),
    run('r-1', '2026-01-01T10:25:00Z', 'Running'),
    run('r-2', '2026-01-01T10:30:00Z', 'Running'),
  ];

  test('keep the newest successful and failed runs, and every run in progress', () => {
    const h = history(runs, limits);
    expect(h.records.map((r) => r.name)).toEqual(['r-2', 'r-1', 's-3', 'f-2', 's-2']);
    expect(h.active).toEqual(['r-2', 'r-1']);
    expect(h.expired.map((j) => j.metadata!.name)).toEqual(['f-1', 's-1']);
  });

  test('of 0 keep no finished run, but still tell how the latest ended', () => {
    const h = history(runs, { successfulRunsHistoryLimit: 0, failedRunsHistoryLimit: 0 });
    expect(h.records.map((r) => r.name)).toEqual(['r-2', 'r-1']);
    expect(h.expired).toHaveLength(5);
    expect(h.lastSuccessfulTime).toEqual(new Date('2026-01-01T10:21:00Z'));
    expect(h.latestFinished).toEqual({ record: expect.objectContaining({ name: 's-3', result: 'Succeeded' }), failure: undefined });
  });

  test('the run that finished last counts as the latest, even if it started first', () => {
    const h = history(
      [run('slow', '2026-01-01T10:00:00Z', 'Failed', [9], '2026-01-01T10:30:00Z'), run('fast', '2026-01-01T10:05:00Z', 'Complete', [0], '2026-01-01T10:06:00Z')],
      limits,
    );
    expect(h.latestFinished).toEqual({ record: expect.objectContaining({ name: 'slow', exitCode: 9 }), failure: 'Job has reached the specified backoff limit' });
    expect(h.lastSuccessfulTime).toEqual(new Date('2026-01-01T10:06:00Z'));
  });
});
