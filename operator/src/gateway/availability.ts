// A provider's availability window, evaluated in its own time zone.
//
// Outside the window its Node carries `lattice.dev/outside-hours:NoSchedule`, so the real
// kube-scheduler places nothing new there; once the window has been closed for the drain grace
// period the same taint is added with NoExecute, and Kubernetes' taint manager evicts the pods
// (their controllers recreate them elsewhere). Pure functions: the clock is a parameter.
import type * as k8s from '@kubernetes/client-node';
import { isWithinWindow, type Availability } from '@lattice/protocol';

export { isWithinWindow };

export const OUTSIDE_HOURS_TAINT_KEY = 'lattice.dev/outside-hours';

export interface AvailabilityState {
  /** Inside the window (or no window at all). */
  available: boolean;
  /** Outside the window for longer than the drain grace: running pods must move off. */
  drain: boolean;
}

/**
 * The availability at `now`, given when the window was last seen closing (`closedSince`).
 */
export function availabilityAt(
  window: Availability | null | undefined,
  now: Date,
  closedSince: Date | undefined,
  drainGraceMs: number,
): AvailabilityState {
  if (isWithinWindow(window, now)) return { available: true, drain: false };
  const since = closedSince ?? now;
  return { available: false, drain: now.getTime() - since.getTime() >= drainGraceMs };
}

export function availabilityTaints(state: AvailabilityState): k8s.V1Taint[] {
  if (state.available) return [];
  const taints: k8s.V1Taint[] = [{ key: OUTSIDE_HOURS_TAINT_KEY, value: 'true', effect: 'NoSchedule' }];
  if (state.drain) taints.push({ key: OUTSIDE_HOURS_TAINT_KEY, value: 'true', effect: 'NoExecute' });
  return taints;
}
