// What a card says about an object's state: one of six words (and the colour that goes with it),
// and how old it is.
import type { Condition } from '@lattice/crds';
import type { Tagged } from './lattice-object.js';

export type StatusWord = 'running' | 'pending' | 'building' | 'deploying' | 'failed' | 'stopped';

const conditionOf = (conditions: readonly Condition[] | undefined, type: string) => conditions?.find((c) => c.type === type);

/**
 * The card's word. A suspended object reads "stopped" at once (what the user asked for), even
 * before the operator reports it. A CronWorkload is "running" while its schedule is live, and
 * "failed" when its latest run failed or its spec cannot be scheduled.
 */
export function statusWord(tagged: Tagged): StatusWord {
  switch (tagged.plural) {
    case 'workloads': {
      const { spec, status } = tagged.object;
      if (spec?.suspend === true || status?.phase === 'Stopped') return 'stopped';
      const byPhase = { Failed: 'failed', Running: 'running', Building: 'building', Deploying: 'deploying', Pending: 'pending' } as const;
      return status?.phase ? byPhase[status.phase] : 'pending';
    }
    case 'postgresinstances': {
      const phase = tagged.object.status?.phase;
      if (phase === 'Failed') return 'failed';
      if (phase === 'Running') return 'running';
      return phase === 'Provisioning' ? 'deploying' : 'pending';
    }
    case 'cronworkloads': {
      const { spec, status } = tagged.object;
      if (spec?.suspend === true) return 'stopped';
      const ready = conditionOf(status?.conditions, 'Ready');
      if (conditionOf(status?.conditions, 'Degraded')?.status === 'True' || (ready?.status === 'False' && ready.reason.startsWith('Invalid'))) return 'failed';
      return ready?.status === 'True' ? 'running' : 'pending';
    }
  }
}

/**
 * The API's own words for what is wrong, if anything is: the message of a Degraded condition, or
 * of a Ready/Scheduled condition that is False for a reason other than plain waiting.
 */
export function problemOf(conditions: readonly Condition[] | undefined): Condition | undefined {
  const degraded = conditionOf(conditions, 'Degraded');
  if (degraded?.status === 'True') return degraded;
  const scheduled = conditionOf(conditions, 'Scheduled');
  if (scheduled?.status === 'False') return scheduled;
  const ready = conditionOf(conditions, 'Ready');
  if (ready?.status === 'False' && /Insufficient|Invalid|Failed|Unschedulable|NoProviders|NoMatching|Error|BackOff/.test(ready.reason)) return ready;
  return undefined;
}

/** Reasons a user knows better by another name. */
const PROBLEM_TITLE: Record<string, string> = {
  InsufficientCapacity: 'Insufficient resources',
  NoProviders: 'No provider connected',
  NoMatchingProvider: 'No matching provider',
};

/** The problem's headline: a plain name for the reasons that have one, else the API's reason. */
export const problemTitle = (problem: Condition) => PROBLEM_TITLE[problem.reason] ?? problem.reason;

/** Age as kubectl prints it: 45s, 12m, 3h, 5d. */
export function age(creationTimestamp: string | undefined, now: number): string {
  if (creationTimestamp === undefined) return 'unknown';
  const seconds = Math.max(0, Math.floor((now - Date.parse(creationTimestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 120 * 60) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
