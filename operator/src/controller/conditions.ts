// Status conditions (metav1.Condition) as apimachinery's meta.SetStatusCondition keeps them:
// lastTransitionTime moves only when the status does, so `kubectl describe` shows since when a
// Workload is not Ready, not when the operator last looked.
import type { Condition } from '@lattice/crds';

export type ConditionStatus = Condition['status'];

/** What a reconciler says about one aspect of an object; the rest is filled in here. */
export interface ConditionUpdate {
  type: string;
  status: ConditionStatus;
  /** CamelCase, machine-readable. */
  reason: string;
  /** What is wrong and what to do about it, for a person. */
  message: string;
}

/** The CRD's limit on a condition message. */
const MAX_MESSAGE = 32_768;

/** An RFC 3339 timestamp with second precision, as metav1.Time writes it. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * The conditions an object should have: exactly `updates`, in that order, each stamped with
 * `observedGeneration`, keeping the lastTransitionTime of an existing condition whose status did
 * not change.
 */
export function nextConditions(
  existing: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  observedGeneration: number,
  now: Date,
): Condition[] {
  return updates.map((update) => {
    const previous = findCondition(existing, update.type);
    const unchanged = previous !== undefined && previous.status === update.status;
    return {
      type: update.type,
      status: update.status,
      reason: update.reason,
      message: update.message.length > MAX_MESSAGE ? `${update.message.slice(0, MAX_MESSAGE - 1)}…` : update.message,
      observedGeneration,
      lastTransitionTime: unchanged ? previous.lastTransitionTime : timestamp(now),
    };
  });
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** The conditions of `next` whose status or reason differ from `previous` (new ones included). */
export function changedConditions(previous: readonly Condition[] | undefined, next: readonly Condition[]): Condition[] {
  return next.filter((c) => {
    const before = findCondition(previous, c.type);
    return before === undefined || before.status !== c.status || before.reason !== c.reason;
  });
}
