// CronWorkload: a container run to completion on a schedule.
import { z } from 'zod';
import { Conditions, Env, ImagePullSecrets, ImageReference, ObservedGeneration, Resources, Timestamp } from './common.js';
import { Schedule, TimeZone } from './cron.js';
import { ageColumn, objectSchema, type KindDefinition } from './kind.js';
import { MAX_LABEL_LENGTH, shortName } from './names.js';

export const RunTemplate = z
  .strictObject({
    image: ImageReference.describe('Container image to run, e.g. postgres:15 (its pg_dump for a backup).'),
    imagePullSecrets: ImagePullSecrets.optional(),
    command: z.array(z.string().max(4096)).max(64).optional().describe("Replaces the image's entrypoint."),
    args: z.array(z.string().max(4096)).max(256).optional().describe("Replaces the image's default arguments (its CMD)."),
    env: Env.optional(),
    resources: Resources.prefault({}),
    activeDeadlineSeconds: z
      .int()
      .min(1)
      .optional()
      .describe('Seconds a run may take before it is stopped and counted as failed. Unlimited if unset.'),
    backoffLimit: z
      .int()
      .min(0)
      .max(10)
      .default(0)
      .describe('How often a failed run is retried before it counts as failed.'),
  })
  .describe('The container each run starts; a run succeeds when it exits with status 0.');

export const CronWorkloadSpec = z
  .strictObject({
    schedule: Schedule,
    timeZone: TimeZone.default('UTC'),
    suspend: z.boolean().default(false).describe('Start no new runs until set back to false; running ones finish.'),
    concurrencyPolicy: z
      .enum(['Allow', 'Forbid', 'Replace'])
      .default('Forbid')
      .describe(
        'When a run is due while the previous one still runs: Allow both, Forbid (skip the new one) or Replace (stop the old one).',
      ),
    startingDeadlineSeconds: z
      .int()
      .min(0)
      .optional()
      .describe('A run that could not start within this many seconds of its time is skipped. No deadline if unset.'),
    successfulRunsHistoryLimit: z
      .int()
      .min(0)
      .max(100)
      .default(3)
      .describe('Finished successful runs to keep (with their logs).'),
    failedRunsHistoryLimit: z
      .int()
      .min(0)
      .max(100)
      .default(1)
      .describe('Failed runs to keep (with their logs).'),
    template: RunTemplate,
  })
  .describe('When to run what.');

export const RunRecord = z
  .object({
    name: z.string().describe('Name of the run.'),
    startTime: Timestamp.optional().describe('When the run started.'),
    completionTime: Timestamp.optional().describe('When the run finished.'),
    result: z.enum(['Succeeded', 'Failed', 'Running']).describe('How the run ended, or Running.'),
    exitCode: z.int().optional().describe('Exit status of the container.'),
    durationSeconds: z.int().min(0).optional().describe('How long the run took.'),
  })
  .describe('One recent run.');

export const CronWorkloadStatus = z
  .object({
    conditions: Conditions.optional(),
    observedGeneration: ObservedGeneration.optional(),
    lastScheduleTime: Timestamp.optional().describe('When the latest run was started.'),
    nextScheduleTime: Timestamp.optional().describe('When the next run is due.'),
    lastSuccessfulTime: Timestamp.optional().describe('When the latest successful run finished.'),
    active: z
      .array(z.string())
      .optional()
      .meta({ 'x-kubernetes-list-type': 'set' })
      .describe('Names of the runs in progress.'),
    history: z
      .array(RunRecord)
      .optional()
      .describe('Recent runs, newest first, as many as the history limits keep.'),
  })
  .describe('What Lattice observed, written by the operator.');

export const CronWorkload = objectSchema('CronWorkload', CronWorkloadSpec, CronWorkloadStatus);

/**
 * A run is a Job named <name>-<Unix minute, 8 digits> or <name>-now-<8 hex digits>
 * (operator/src/cronworkload/runs.ts), and the Job controller copies a Job's name into a pod label.
 * Kubernetes' CronJob allows 52 characters for its Jobs' 11.
 */
export const MAX_CRON_WORKLOAD_NAME_LENGTH = MAX_LABEL_LENGTH - '-now-01234567'.length;

export const CRON_WORKLOAD_NAME_RULES = [
  shortName<CronWorkload>(
    MAX_CRON_WORKLOAD_NAME_LENGTH,
    `a CronWorkload's name must have at most ${MAX_CRON_WORKLOAD_NAME_LENGTH} characters: its runs are Jobs named after it with up to ${MAX_LABEL_LENGTH - MAX_CRON_WORKLOAD_NAME_LENGTH} more characters, and a Job's name must fit in a label (at most ${MAX_LABEL_LENGTH})`,
  ),
] as const;

export const cronWorkloadKind: KindDefinition = {
  kind: 'CronWorkload',
  plural: 'cronworkloads',
  singular: 'cronworkload',
  shortNames: ['cwl'],
  description: 'A container Lattice runs to completion on a cron schedule, such as a nightly backup.',
  spec: CronWorkloadSpec,
  status: CronWorkloadStatus,
  printerColumns: [
    { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule', description: 'Cron schedule.' },
    { name: 'TimeZone', type: 'string', jsonPath: '.spec.timeZone', description: 'Time zone of the schedule.' },
    { name: 'Suspend', type: 'boolean', jsonPath: '.spec.suspend', description: 'Whether new runs are held back.' },
    { name: 'Last Run', type: 'date', jsonPath: '.status.lastScheduleTime', description: 'Time since the latest run started.' },
    // A date column would print a future time as <invalid>, so the next run shows as a timestamp.
    { name: 'Next Run', type: 'string', jsonPath: '.status.nextScheduleTime', description: 'When the next run is due.' },
    ageColumn,
  ],
  nameRules: CRON_WORKLOAD_NAME_RULES,
};

export type RunTemplate = z.infer<typeof RunTemplate>;
export type CronWorkloadSpec = z.infer<typeof CronWorkloadSpec>;
export type RunRecord = z.infer<typeof RunRecord>;
export type CronWorkloadStatus = z.infer<typeof CronWorkloadStatus>;
export type CronWorkload = z.infer<typeof CronWorkload>;
