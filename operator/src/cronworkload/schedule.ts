// When a CronWorkload's runs are due, and what to do about the one due now: a pure function of the
// spec, what status and the runs say was already handled, and `now`, so every case (time zones,
// DST, downtime, deadlines, concurrency) is unit-tested without a clock.
//
// Kubernetes CronJob semantics, minus its known surprises:
//   - After downtime, at most one catch-up run (the latest due time); the earlier ones are reported
//     missed. CronJob starts the latest too, but refuses to schedule at all after 100 missed times.
//   - A run Forbid skips is skipped for good and reported; CronJob starts it late once the active
//     run ends.
//   - Resuming from suspend, or changing the spec, counts due times from then on; CronJob starts a
//     run for a time missed while suspended as soon as it is resumed.
import { Cron } from 'croner';
import type { CronWorkloadSpec } from '@lattice/crds';

export type ScheduleSpec = Pick<
  CronWorkloadSpec,
  'schedule' | 'timeZone' | 'suspend' | 'concurrencyPolicy' | 'startingDeadlineSeconds'
>;

/** A schedule read in its time zone; croner computes every run time (DST rules as Vixie cron). */
export interface CronSchedule {
  /** The first run time strictly after `time`. */
  after(time: Date): Date | undefined;
  /** The latest run time at or before `time`. */
  atOrBefore(time: Date): Date | undefined;
}

/** The schedule, or why croner cannot run it (the apiserver's rules make this rare). */
export function parseSchedule(schedule: string, timeZone: string): CronSchedule | { error: string } {
  try {
    const cron = new Cron(schedule, { mode: '5-part', timezone: timeZone, paused: true });
    // Croner reads the time zone only when it computes a time: do it once here, so an unknown zone
    // is reported now rather than thrown in the middle of a reconcile.
    cron.nextRun(new Date(0));
    return {
      after: (time) => cron.nextRun(time) ?? undefined,
      // previousRuns looks strictly before its reference; one millisecond later includes `time`.
      atOrBefore: (time) => cron.previousRuns(1, new Date(time.getTime() + 1))[0],
    };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { error: `spec.schedule "${schedule}" in time zone "${timeZone}" cannot be run: ${reason}` };
  }
}

/** What status and the existing runs say was already handled. */
export interface ScheduleHistory {
  /** metadata.creationTimestamp: due times are counted from here until status was first written. */
  createdAt: Date;
  generation?: number;
  /** status.observedGeneration: undefined until status was first written. */
  observedGeneration?: number;
  /** status.nextScheduleTime: the first time not handled yet, as of the last status write. */
  nextScheduleTime?: Date;
  /** The latest scheduled time a run was started for (status, or a run status has not caught up with). */
  lastScheduleTime?: Date;
  /** Names of the runs in progress. */
  active: readonly string[];
}

/** What to do about the latest due time. */
export type DueAction =
  | { action: 'start'; time: Date; late: boolean }
  | { action: 'replace'; time: Date; late: boolean; replaced: readonly string[]; message: string }
  | { action: 'skip'; time: Date; reason: 'RunSkipped'; message: string }
  | { action: 'miss'; time: Date; reason: 'MissedSchedule'; message: string };

export interface ScheduleDecision {
  /** The latest due time and what to do about it; undefined if nothing is due. */
  due?: DueAction;
  /** Earlier due times that were never started: the due run above stands in for them. */
  missed?: { count: number; message: string };
  /** The next run time after now (status.nextScheduleTime); undefined while suspended. */
  next?: Date;
}

/** How many missed times are counted exactly; beyond it the message says "more than". */
const MISSED_COUNT_LIMIT = 100;
/** A run starting this long after its time is a catch-up, and its Event says so. */
const LATE_AFTER_MS = 60_000;

const iso = (time: Date) => time.toISOString();

/**
 * The first time that may be due. Status remembers it as nextScheduleTime while the spec is the one
 * it was written for; a new or changed spec counts from creation or from now.
 */
function firstCandidate(cron: CronSchedule, history: ScheduleHistory, now: Date): Date | undefined {
  let first: Date | undefined;
  if (history.observedGeneration === undefined) first = cron.after(history.createdAt);
  else if (history.observedGeneration === history.generation && history.nextScheduleTime) first = history.nextScheduleTime;
  else first = cron.after(now);
  // A run status does not show yet (its status write failed) still counts as handled.
  const afterLast = history.lastScheduleTime && cron.after(history.lastScheduleTime);
  return first && afterLast && afterLast > first ? afterLast : first;
}

/** The due times before `latest`, from `first`: counted, not started. */
function missedBefore(cron: CronSchedule, first: Date, latest: Date): ScheduleDecision['missed'] {
  let count = 0;
  for (let t: Date | undefined = first; t && t < latest && count <= MISSED_COUNT_LIMIT; t = cron.after(t)) count++;
  if (count === 0) return undefined;
  const counted = count > MISSED_COUNT_LIMIT ? `more than ${MISSED_COUNT_LIMIT} runs` : count === 1 ? '1 run' : `${count} runs`;
  return {
    count,
    message: `${counted} due from ${iso(first)} were not started in time (Lattice was not running or could not reach the API); only the latest due run, at ${iso(latest)}, is considered`,
  };
}

/** What to do now. Throws nothing: an unrunnable schedule is parseSchedule's to report. */
export function decide(cron: CronSchedule, spec: ScheduleSpec, history: ScheduleHistory, now: Date): ScheduleDecision {
  if (spec.suspend) return {};
  const next = cron.after(now);
  const first = firstCandidate(cron, history, now);
  if (!first || first > now) return { next };
  const latest = cron.atOrBefore(now) ?? first;
  const missed = missedBefore(cron, first, latest);
  const lateMs = now.getTime() - latest.getTime();

  if (spec.startingDeadlineSeconds !== undefined && lateMs > spec.startingDeadlineSeconds * 1000) {
    const message = `the run due at ${iso(latest)} was not started: it is ${Math.floor(lateMs / 1000)}s late, more than startingDeadlineSeconds (${spec.startingDeadlineSeconds})`;
    return { due: { action: 'miss', time: latest, reason: 'MissedSchedule', message }, missed, next };
  }
  const late = lateMs > LATE_AFTER_MS;
  if (history.active.length === 0 || spec.concurrencyPolicy === 'Allow') return { due: { action: 'start', time: latest, late }, missed, next };

  const active = history.active.length === 1 ? `run ${history.active[0]} is` : `runs ${history.active.join(', ')} are`;
  if (spec.concurrencyPolicy === 'Forbid') {
    const message = `the run due at ${iso(latest)} was skipped: ${active} still in progress and concurrencyPolicy is Forbid`;
    return { due: { action: 'skip', time: latest, reason: 'RunSkipped', message }, missed, next };
  }
  const message = `stopping ${history.active.join(', ')}: the run due at ${iso(latest)} replaces it (concurrencyPolicy Replace)`;
  return { due: { action: 'replace', time: latest, late, replaced: history.active, message }, missed, next };
}
