// The kubelet's back-off for restarting crashed containers and retrying failed pulls: 10 s,
// doubling up to 5 min, forgotten once nothing failed for twice the maximum.

export const INITIAL_BACKOFF_MS = 10_000;
export const MAX_BACKOFF_MS = 300_000;

export interface Backoff {
  /** How long to wait after the failure the entry was last advanced for. */
  delayMs: number;
  /** When that failure happened (epoch ms). */
  since: number;
}

function expired(entry: Backoff, at: number): boolean {
  return at - entry.since > 2 * MAX_BACKOFF_MS;
}

/** The entry after a failure at `at`: the first (or first in a long while) gets the initial delay. */
export function nextBackoff(entry: Backoff | undefined, at: number): Backoff {
  if (!entry || expired(entry, at)) return { delayMs: INITIAL_BACKOFF_MS, since: at };
  return { delayMs: Math.min(entry.delayMs * 2, MAX_BACKOFF_MS), since: at };
}

/**
 * How much longer, from `now`, a retry after the failure at `failedAt` must wait; 0 when it may
 * go. Like the kubelet, a failure with no entry yet may be retried at once: the first crash
 * restarts immediately, the delays start with the second.
 */
export function backoffRemaining(entry: Backoff | undefined, failedAt: number, now: number): number {
  if (!entry || expired(entry, failedAt)) return 0;
  return Math.max(0, failedAt + entry.delayMs - now);
}
