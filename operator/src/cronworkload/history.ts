// A CronWorkload's runs as its status shows them, read from its Jobs and their pods: which are in
// progress, how the finished ones ended, and which finished ones fall outside the history limits
// (their Jobs are deleted, and their pods and logs with them).
import type * as k8s from '@kubernetes/client-node';
import type { RunRecord } from '@lattice/crds';
import { timestamp } from '../controller/conditions.js';
import { CONTAINER_NAME } from './job.js';

export interface Run {
  job: k8s.V1Job;
  /** The pods the Job created for it, one per attempt. */
  pods: readonly k8s.V1Pod[];
}

export interface HistoryLimits {
  successfulRunsHistoryLimit: number;
  failedRunsHistoryLimit: number;
}

export interface History {
  /** Every run, newest (by start) first. */
  all: RunRecord[];
  /** Runs in progress and the finished runs the limits keep. */
  records: RunRecord[];
  /** Names of the runs in progress. */
  active: string[];
  /** Finished runs beyond the limits, to delete. */
  expired: k8s.V1Job[];
  /** When the latest successful run among all of them finished. */
  lastSuccessfulTime?: Date;
  /** The run that finished last, and why it failed if it did (the Job's Failed condition). */
  latestFinished?: { record: RunRecord; failure?: string };
}

// Watch events carry timestamps as strings; lists, as Dates: read either.
function toDate(value: Date | string | undefined): Date | undefined {
  return value === undefined ? undefined : new Date(value);
}

function condition(job: k8s.V1Job, type: string): k8s.V1JobCondition | undefined {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

function startOf(job: k8s.V1Job): Date | undefined {
  return toDate(job.status?.startTime ?? job.metadata?.creationTimestamp);
}

/** The exit code of the run's last attempt, from its container's terminated state. */
function exitCode(pods: readonly k8s.V1Pod[]): number | undefined {
  const latestFirst = [...pods].sort((a, b) => time(b.metadata?.creationTimestamp) - time(a.metadata?.creationTimestamp));
  for (const pod of latestFirst) {
    const status = pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
    const code = (status?.state?.terminated ?? status?.lastState?.terminated)?.exitCode;
    if (code !== undefined) return code;
  }
  return undefined;
}

const time = (value: Date | string | undefined) => toDate(value)?.getTime() ?? 0;

function record({ job, pods }: Run): RunRecord {
  const failed = condition(job, 'Failed');
  const complete = condition(job, 'Complete');
  const start = startOf(job);
  // The Job controller sets completionTime only for a Job that succeeded.
  const end = complete ? toDate(job.status?.completionTime ?? complete.lastTransitionTime) : toDate(failed?.lastTransitionTime);
  return {
    name: job.metadata!.name!,
    startTime: start && timestamp(start),
    completionTime: end && timestamp(end),
    result: complete ? 'Succeeded' : failed ? 'Failed' : 'Running',
    exitCode: exitCode(pods),
    durationSeconds: start && end ? Math.max(0, Math.round((end.getTime() - start.getTime()) / 1000)) : undefined,
  };
}

export function history(runs: readonly Run[], limits: HistoryLimits): History {
  const newestFirst = runs
    // A Job being deleted (replaced, or out of the history) is no longer one of the runs.
    .filter(({ job }) => job.metadata?.deletionTimestamp === undefined)
    .map((run) => ({ run, record: record(run) }))
    .sort((a, b) => time(b.record.startTime) - time(a.record.startTime) || b.record.name.localeCompare(a.record.name));

  const room = { Succeeded: limits.successfulRunsHistoryLimit, Failed: limits.failedRunsHistoryLimit, Running: Infinity };
  const records: RunRecord[] = [];
  const expired: k8s.V1Job[] = [];
  for (const { run, record } of newestFirst) {
    if (room[record.result] > 0) {
      room[record.result]--;
      records.push(record);
    } else {
      expired.push(run.job);
    }
  }

  // With concurrencyPolicy Allow, a run may finish before an older one does.
  const finishedLast = newestFirst
    .filter(({ record }) => record.completionTime !== undefined)
    .sort((a, b) => time(b.record.completionTime) - time(a.record.completionTime));
  const latest = finishedLast[0];
  const lastSuccess = finishedLast.find(({ record }) => record.result === 'Succeeded');
  return {
    all: newestFirst.map(({ record }) => record),
    records,
    active: records.filter((r) => r.result === 'Running').map((r) => r.name),
    expired,
    lastSuccessfulTime: toDate(lastSuccess?.record.completionTime),
    latestFinished: latest && { record: latest.record, failure: condition(latest.run.job, 'Failed')?.message },
  };
}
