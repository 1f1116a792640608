// What a Workload card says about its state: one of four words (and the colour that goes with
// it), and how old it is.
import type { WorkloadObject } from './workload-object.js';

export type StatusWord = 'running' | 'pending' | 'stopped' | 'failed';

/**
 * The card's word. A suspended Workload reads "stopped" at once (what the user asked for), even
 * before the operator reports it; Building and Deploying are still "pending" to a user.
 */
export function statusWord(workload: WorkloadObject): StatusWord {
  const phase = workload.status?.phase;
  if (workload.spec?.suspend === true || phase === 'Stopped') return 'stopped';
  if (phase === 'Failed') return 'failed';
  if (phase === 'Running') return 'running';
  return 'pending';
}

/** Age as kubectl prints it: 45s, 12m, 3h, 5d. */
export function age(creationTimestamp: string | undefined, now: number): string {
  if (creationTimestamp === undefined) return 'unknown';
  const seconds = Math.max(0, Math.floor((now - Date.parse(creationTimestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 120 * 60) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}
