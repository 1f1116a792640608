// The status a CronWorkload should show: its conditions, its schedule times and its runs.
//
// Ready says whether runs are being started on schedule (False while suspended or when the schedule
// cannot be run). Degraded says whether the run that finished last failed, so that a failing
// nightly job shows in `kubectl describe`, and can be waited for, without reading the history.
import type { CronWorkloadStatus } from '@lattice/crds';
import { findCondition, nextConditions, timestamp, type ConditionUpdate } from '../controller/conditions.js';
import type { History } from './history.js';

/** Why runs are not being started on schedule, or undefined if they are. */
export type NotScheduling = { reason: 'Suspended' | 'InvalidSpec' | 'InvalidSchedule' | 'InvalidName'; message: string };

export interface StatusInput {
  notScheduling?: NotScheduling;
  next?: Date;
  history: History;
  /** When the latest run was started (its scheduled time, or when it was started by hand). */
  lastScheduleTime?: Date;
  now: Date;
}

const later = (a: string | undefined, b: Date | undefined): string | undefined =>
  b !== undefined && (a === undefined || new Date(a) < b) ? timestamp(b) : a;

function ready({ notScheduling, next }: StatusInput): ConditionUpdate {
  if (notScheduling) return { type: 'Ready', status: 'False', ...notScheduling };
  const when = next ? `the next run is due at ${timestamp(next)}` : 'the schedule has no further run times';
  return { type: 'Ready', status: 'True', reason: 'Scheduled', message: `runs start on schedule; ${when}` };
}

function degraded({ history }: StatusInput, previous: ConditionUpdate | undefined): ConditionUpdate {
  const latest = history.latestFinished;
  if (!latest) return previous ?? { type: 'Degraded', status: 'False', reason: 'NoRunFinished', message: 'no run has finished yet' };
  const { name, result, exitCode } = latest.record;
  if (result === 'Succeeded') return { type: 'Degraded', status: 'False', reason: 'RunSucceeded', message: `run ${name} succeeded` };
  const code = exitCode === undefined ? '' : ` with exit code ${exitCode}`;
  const why = latest.failure ? `: ${latest.failure}` : '';
  return {
    type: 'Degraded',
    status: 'True',
    reason: 'RunFailed',
    message: `run ${name} failed${code}${why}; see kubectl logs job/${name}`,
  };
}

export function nextStatus(previous: CronWorkloadStatus, generation: number, input: StatusInput): CronWorkloadStatus {
  // With no finished run left to read (history limits of 0), the last verdict stands.
  const previousDegraded = findCondition(previous.conditions, 'Degraded');
  return {
    observedGeneration: generation,
    conditions: nextConditions(previous.conditions, [ready(input), degraded(input, previousDegraded)], generation, input.now),
    lastScheduleTime: later(previous.lastScheduleTime, input.lastScheduleTime),
    nextScheduleTime: input.next && timestamp(input.next),
    lastSuccessfulTime: later(previous.lastSuccessfulTime, input.history.lastSuccessfulTime),
    active: input.history.active,
    history: input.history.records,
  };
}
