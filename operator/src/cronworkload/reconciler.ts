// Reconciling one CronWorkload: start the run that is due, then report what is.
//
//   1. Read the CronWorkload from the cache and its spec through the zod schema; refuse (in status)
//      a name too long for its runs' names, or a schedule croner cannot run.
//   2. Ask the schedule (a pure function of the spec, status, the runs and the clock) what is due,
//      and do it: start a Job, replace the active ones, or record an Event saying why not.
//   3. Start a run for a new lattice.dev/run-now value, and record the value as handled.
//   4. Delete the finished runs the history limits no longer keep.
//   5. Apply the status if it changed, and requeue at the next scheduled time.
//
// Native Jobs rather than a native CronJob: Kubernetes still runs every run (retries, deadlines,
// pods), but when runs start is decided here, so that downtime leads to one catch-up run and an
// Event instead of CronJob's flood or "too many missed start times", a Forbid skip is not started
// late, resuming does not start a missed run, and time zones come from the IANA names the API
// validates rather than the controller-manager's zone database.
//
// Everything is read from the API (the caches) each time: Job names follow from the scheduled
// time, so a restart, or a cache that has not seen a new Job yet, cannot start a run twice.
import { isDeepStrictEqual } from 'node:util';
import type * as k8s from '@kubernetes/client-node';
import { API_VERSION, CRON_WORKLOAD_NAME_RULES, CronWorkloadSpec, storedNameProblem, type CronWorkload } from '@lattice/crds';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ReconcileResult } from '../controller/controller.js';
import { splitKey } from '../controller/keys.js';
import type { Applier } from '../kube/apply.js';
import { isAlreadyExists } from '../kube/errors.js';
import type { EventRecorder, EventTarget } from '../kube/events.js';
import { CRONWORKLOADS, type CronWorkloadCaches, type StoredCronWorkload } from './caches.js';
import { history, type HistoryLimits, type Run } from './history.js';
import { runJob } from './job.js';
import { RUN_NOW_ANNOTATION, RUN_NOW_HANDLED_ANNOTATION, requestedRunNow, scheduledAt, startedAt, type RunTrigger } from './runs.js';
import { decide, parseSchedule, type CronSchedule, type ScheduleDecision } from './schedule.js';
import { nextStatus, type NotScheduling } from './status.js';

/** What one reconcile did, for the status it writes. */
interface Actions {
  /** Runs started now, which the caches do not show yet. */
  started: k8s.V1Job[];
  /** Runs stopped now by concurrencyPolicy Replace. */
  replaced: string[];
}

/** Kept while a spec cannot be read: no run is deleted for limits that are not known. */
const KEEP_ALL: HistoryLimits = { successfulRunsHistoryLimit: Infinity, failedRunsHistoryLimit: Infinity };
/**
 * The longest requeue: timers cannot wait longer than 2^31 ms (~24.8 days), and a daily look also
 * catches up with a clock that jumped.
 */
const MAX_REQUEUE_MS = 24 * 3600 * 1000;

const later = (a: Date | undefined, b: Date | undefined) => (a === undefined || (b !== undefined && b > a) ? b : a);
const dateOf = (value: string | undefined) => (value === undefined ? undefined : new Date(value));

export class CronWorkloadReconciler {
  constructor(
    private readonly caches: CronWorkloadCaches,
    private readonly batch: k8s.BatchV1Api,
    private readonly applier: Applier,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(key: string, log: Logger): Promise<ReconcileResult | void> {
    const { namespace = '', name } = splitKey(key);
    const stored = this.caches.cronWorkloads.get(name, namespace);
    // Deleted, or being deleted: the garbage collector removes its Jobs.
    if (!stored || stored.metadata?.deletionTimestamp) return;
    const now = new Date();
    const runs = this.caches.runsOf(namespace, stored.metadata!.uid!);
    const actions: Actions = { started: [], replaced: [] };

    const spec = CronWorkloadSpec.safeParse(stored.spec);
    if (!spec.success) {
      const message = `spec cannot be read: ${z.prettifyError(spec.error)}`;
      return this.report(stored, KEEP_ALL, runs, actions, now, { notScheduling: { reason: 'InvalidSpec', message } });
    }
    const cw = { ...stored, apiVersion: API_VERSION, kind: 'CronWorkload', metadata: stored.metadata ?? {}, spec: spec.data } as CronWorkload;
    // The CRD refuses such a name on create; a CronWorkload stored before it did is reported here.
    const badName = storedNameProblem('CronWorkload', CRON_WORKLOAD_NAME_RULES, cw);
    if (badName) return this.report(stored, cw.spec, runs, actions, now, { notScheduling: { reason: 'InvalidName', message: badName } });

    const target: EventTarget = { apiVersion: API_VERSION, kind: 'CronWorkload', name, namespace, uid: cw.metadata.uid! };
    const before = history(runs, cw.spec);
    const cron = parseSchedule(cw.spec.schedule, cw.spec.timeZone);
    const decision = 'error' in cron ? {} : await this.runSchedule(cw, cron, runs, before.active, actions, target, now, log);
    await this.runNow(cw, actions, target, log);
    for (const job of before.expired) await this.deleteRun(cw, job.metadata!.name!, 'it left the history', log);

    const notScheduling: NotScheduling | undefined =
      'error' in cron
        ? { reason: 'InvalidSchedule', message: `${cron.error}. Correct spec.schedule or spec.timeZone.` }
        : cw.spec.suspend
          ? { reason: 'Suspended', message: 'spec.suspend is true: no run starts on schedule until it is false' }
          : undefined;
    await this.report(stored, cw.spec, runs, actions, now, { notScheduling, next: decision.next });
    if (decision.next) return { requeueAfterMs: Math.min(decision.next.getTime() - now.getTime(), MAX_REQUEUE_MS) };
  }

  /** Does what the schedule says about the run due now, if any. */
  private async runSchedule(
    cw: CronWorkload,
    cron: CronSchedule,
    runs: readonly Run[],
    active: readonly string[],
    actions: Actions,
    target: EventTarget,
    now: Date,
    log: Logger,
  ): Promise<ScheduleDecision> {
    const status = cw.status ?? {};
    const lastStarted = runs.map(({ job }) => scheduledAt(job)).reduce(later, undefined);
    const decision = decide(
      cron,
      cw.spec,
      {
        createdAt: new Date(cw.metadata.creationTimestamp!),
        generation: cw.metadata.generation,
        observedGeneration: status.observedGeneration,
        nextScheduleTime: dateOf(status.nextScheduleTime),
        lastScheduleTime: later(dateOf(status.lastScheduleTime), lastStarted),
        active,
      },
      now,
    );
    if (decision.missed) await this.events.record(target, 'Warning', 'MissedSchedule', decision.missed.message);

    const due = decision.due;
    if (!due) return decision;
    if (due.action === 'skip' || due.action === 'miss') {
      log.info({ scheduledAt: due.time }, due.message);
      await this.events.record(target, 'Warning', due.reason, due.message);
      return decision;
    }
    if (due.action === 'replace') {
      for (const name of due.replaced) await this.deleteRun(cw, name, 'concurrencyPolicy Replace', log);
      actions.replaced.push(...due.replaced);
      await this.events.record(target, 'Normal', 'RunReplaced', due.message);
    }
    const lateness = due.late ? ` (a catch-up run, ${Math.floor((now.getTime() - due.time.getTime()) / 1000)}s late)` : '';
    await this.start(cw, { scheduledAt: due.time }, `for ${due.time.toISOString()}${lateness}`, actions, target, log);
    return decision;
  }

  /** Starts one run for a lattice.dev/run-now value not handled yet (even while suspended). */
  private async runNow(cw: CronWorkload, actions: Actions, target: EventTarget, log: Logger): Promise<void> {
    const value = requestedRunNow(cw);
    if (value === undefined) return;
    await this.start(cw, { runNow: value }, `by hand (${RUN_NOW_ANNOTATION}: ${JSON.stringify(value)})`, actions, target, log);
    // Recorded once the Job exists: after a crash in between, the next pass finds the Job and
    // records the value then. The operator owns only this annotation (server-side apply).
    const { name, namespace } = cw.metadata;
    await this.applier.apply({ apiVersion: API_VERSION, kind: 'CronWorkload', metadata: { name, namespace, annotations: { [RUN_NOW_HANDLED_ANNOTATION]: value } } });
  }

  /** Creates the run's Job; one that exists already is this same run, started before. */
  private async start(cw: CronWorkload, trigger: RunTrigger, why: string, actions: Actions, target: EventTarget, log: Logger): Promise<void> {
    const job = runJob(cw, trigger);
    const { name, namespace } = job.metadata as { name: string; namespace: string };
    try {
      actions.started.push(await this.batch.createNamespacedJob({ namespace, body: job }));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      log.debug({ job: name }, 'run exists already');
      return;
    }
    log.info({ job: name }, `started run ${why}`);
    await this.events.record(target, 'Normal', 'Started', `started run ${name} ${why}`);
  }

  /** Deletes a run's Job, its pods (and their logs) in the background. */
  private async deleteRun(cw: CronWorkload, name: string, why: string, log: Logger): Promise<void> {
    await this.applier.delete({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: cw.metadata.namespace } });
    log.info({ job: name }, `deleted run: ${why}`);
  }

  /** Applies the status if it changed, and tells of the runs that finished since it was last written. */
  private async report(
    stored: StoredCronWorkload,
    limits: HistoryLimits,
    runs: readonly Run[],
    actions: Actions,
    now: Date,
    schedule: { notScheduling?: NotScheduling; next?: Date },
  ): Promise<void> {
    // The runs as they are after this reconcile, which the caches show only later. Runs deleted
    // for the history limits stay in: they still tell how the latest runs ended.
    const current = [
      ...runs.filter(({ job }) => !actions.replaced.includes(job.metadata!.name!)),
      ...actions.started.map((job) => ({ job, pods: [] })),
    ];
    const runHistory = history(current, limits);
    const status = nextStatus(stored.status ?? {}, stored.metadata?.generation ?? 0, {
      ...schedule,
      history: runHistory,
      // From the runs, not only the cached status, which may not show the latest write yet.
      lastScheduleTime: current.map(({ job }) => startedAt(job)).reduce(later, undefined),
      now,
    });
    // JSON drops the undefined fields, as the API would.
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(status)), stored.status)) return;

    const { name, namespace, uid } = stored.metadata as { name: string; namespace: string; uid: string };
    const target: EventTarget = { apiVersion: API_VERSION, kind: 'CronWorkload', name, namespace, uid };
    await this.applier.applyStatus(CRONWORKLOADS, target, status);

    // Every run started shows as Running in the status written right after, so a run finished
    // since is one that status still shows as Running.
    const running = new Set(stored.status?.history?.filter((r) => r.result === 'Running').map((r) => r.name));
    for (const run of runHistory.all) {
      if (run.result === 'Running' || !running.has(run.name)) continue;
      const took = run.durationSeconds === undefined ? '' : ` after ${run.durationSeconds}s`;
      if (run.result === 'Succeeded') {
        await this.events.record(target, 'Normal', 'RunSucceeded', `run ${run.name} succeeded${took}`);
      } else {
        const code = run.exitCode === undefined ? '' : ` with exit code ${run.exitCode}`;
        await this.events.record(target, 'Warning', 'RunFailed', `run ${run.name} failed${code}${took}; see kubectl logs job/${run.name}`);
      }
    }
  }
}
