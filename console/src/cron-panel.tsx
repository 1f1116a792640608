// A cron job's schedule in words, its next runs, a run-now button, and its execution history: the
// runs the operator reports in status (with exit codes and durations), and any Job it owns that
// status does not list yet.
import { useMutation, useQuery } from '@tanstack/react-query';
import type { RunRecord } from '@lattice/crds';
import { api, objectPath } from './api.js';
import type { CronObject } from './lattice-object.js';
import { previewSchedule } from './schedule-preview.js';
import { formatTime } from './time.js';

interface JobRow {
  name: string;
  startTime?: string;
  completionTime?: string;
  result: RunRecord['result'];
  message?: string;
}

export function CronPanel({ namespace, cron }: { namespace: string; cron: CronObject }) {
  const { name, resourceVersion } = cron.metadata;
  const path = objectPath(namespace, 'cronworkloads', name);
  const schedule = cron.spec?.schedule ?? '';
  const timeZone = cron.spec?.timeZone ?? 'UTC';
  const preview = previewSchedule(schedule, timeZone, 3);
  const jobs = useQuery({
    queryKey: ['jobs', namespace, name, resourceVersion],
    queryFn: () => api<JobRow[]>('GET', `${path}/jobs`),
    placeholderData: (previous) => previous,
  });
  const runNow = useMutation({ mutationFn: () => api('POST', `${path}/run-now`, {}) });
  const history: (RunRecord & { message?: string })[] = [...(cron.status?.history ?? [])];
  for (const job of jobs.data ?? []) if (!history.some((r) => r.name === job.name)) history.push(job);
  history.sort((a, b) => (b.startTime ?? '').localeCompare(a.startTime ?? ''));
  return (
    <section aria-labelledby="schedule-title">
      <h2 id="schedule-title">Schedule</h2>
      <dl className="facts">
        <dt>Schedule</dt>
        <dd>
          <code>{schedule}</code>
          {preview && <> — {preview.words}</>}
        </dd>
        <dt>Next run</dt>
        <dd>{cron.status?.nextScheduleTime ? formatTime(cron.status.nextScheduleTime) : cron.spec?.suspend ? 'none while stopped' : 'not scheduled yet'}</dd>
        {preview && (
          <>
            <dt>Then</dt>
            <dd>{preview.next.slice(1).map((d) => formatTime(d)).join(', ')}</dd>
          </>
        )}
        <dt>Last successful run</dt>
        <dd>{cron.status?.lastSuccessfulTime ? formatTime(cron.status.lastSuccessfulTime) : 'none yet'}</dd>
      </dl>
      <div className="actions">
        <button type="button" onClick={() => runNow.mutate()} disabled={runNow.isPending}>
          Run now
        </button>
        <span role="status">{runNow.isSuccess && 'A run was requested; it appears below when it starts.'}</span>
      </div>
      {runNow.error && (
        <p role="alert" className="error">
          {runNow.error.message}
        </p>
      )}
      <h2 id="history-title">Execution history</h2>
      {history.length === 0 ? (
        <p>No run yet.</p>
      ) : (
        <table aria-labelledby="history-title">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Started</th>
              <th scope="col">Finished</th>
              <th scope="col">Result</th>
              <th scope="col">Exit code</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {history.map((run) => (
              <tr key={run.name}>
                <th scope="row">{run.name}</th>
                <td>{run.startTime ? formatTime(run.startTime) : '—'}</td>
                <td>{run.completionTime ? formatTime(run.completionTime) : '—'}</td>
                <td className={`result-${run.result.toLowerCase()}`}>
                  {run.result}
                  {run.message && `: ${run.message}`}
                </td>
                <td>{run.exitCode ?? '—'}</td>
                <td>{run.durationSeconds !== undefined ? `${run.durationSeconds}s` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
