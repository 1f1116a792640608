// A run's identity: its Job's name, labels and annotations. The name is a function of what started
// the run (the scheduled time, or the value of the run-now annotation), so creating the same run
// twice, after a restart or from a stale cache, is an AlreadyExists no-op rather than a second run.
import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { CronWorkload } from '@lattice/crds';

export const CRONWORKLOAD_LABEL = 'lattice.dev/cronworkload';
export const MANAGED_BY = 'lattice-operator';
/** On a Job started by the schedule: the scheduled time it runs for (RFC 3339). */
export const SCHEDULED_AT_ANNOTATION = 'lattice.dev/scheduled-at';
/** On a CronWorkload: a new value asks for one run now. On a Job: the value it was started for. */
export const RUN_NOW_ANNOTATION = 'lattice.dev/run-now';
/**
 * On a CronWorkload, written by the controller: the run-now value a run was last started for, so
 * that a value starts one run however often it is seen, also after its Job left the history.
 */
export const RUN_NOW_HANDLED_ANNOTATION = 'lattice.dev/run-now-handled';

/** Why a run was started. */
export type RunTrigger = { scheduledAt: Date } | { runNow: string };

/**
 * <name>-<Unix minute> (8 digits until the year 2160) or <name>-now-<8 hex digits>: what the
 * CronWorkload's name rule (MAX_CRON_WORKLOAD_NAME_LENGTH in @lattice/crds) leaves room for.
 */
export function runName(cronWorkloadName: string, trigger: RunTrigger): string {
  if ('scheduledAt' in trigger) return `${cronWorkloadName}-${Math.floor(trigger.scheduledAt.getTime() / 60_000)}`;
  // Any string may be the value; a hash makes it a name (and keeps it unique enough: 2^32 values).
  const hash = createHash('sha256').update(trigger.runNow).digest('hex').slice(0, 8);
  return `${cronWorkloadName}-now-${hash}`;
}

/** A user's own app.kubernetes.io/name and part-of labels on the CronWorkload are carried over. */
export function runLabels(cw: CronWorkload): Record<string, string> {
  const name = cw.metadata.name!;
  const own = cw.metadata.labels ?? {};
  return {
    'app.kubernetes.io/name': own['app.kubernetes.io/name'] ?? name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': 'run',
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/part-of': own['app.kubernetes.io/part-of'] ?? 'lattice',
    [CRONWORKLOAD_LABEL]: name,
  };
}

export function triggerAnnotations(trigger: RunTrigger): Record<string, string> {
  return 'scheduledAt' in trigger
    ? { [SCHEDULED_AT_ANNOTATION]: trigger.scheduledAt.toISOString() }
    : { [RUN_NOW_ANNOTATION]: trigger.runNow };
}

/** The scheduled time a Job runs for; undefined for a run started by hand. */
export function scheduledAt(job: k8s.V1Job): Date | undefined {
  const value = job.metadata?.annotations?.[SCHEDULED_AT_ANNOTATION];
  return value === undefined ? undefined : new Date(value);
}

/** When a run counts as started: its scheduled time, or when its Job was created for a run by hand. */
export function startedAt(job: k8s.V1Job): Date {
  return scheduledAt(job) ?? new Date(job.metadata!.creationTimestamp!);
}

/** The run-now value on the CronWorkload if it asks for a run not started yet. */
export function requestedRunNow(cw: CronWorkload): string | undefined {
  const annotations = cw.metadata.annotations ?? {};
  const value = annotations[RUN_NOW_ANNOTATION];
  return value !== undefined && value !== '' && value !== annotations[RUN_NOW_HANDLED_ANNOTATION] ? value : undefined;
}
