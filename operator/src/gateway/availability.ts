// A provider's availability window, evaluated in its own time zone.
//
// Outside the window its Node carries `lattice.dev/outside-hours:NoSchedule`, so the real
// kube-scheduler places nothing new there; once the window has been closed for the drain grace
// period the same taint is added with NoExecute, and Kubernetes' taint manager evicts the pods
// (their controllers recreate them elsewhere). Pure functions: the clock is a parameter.
import type * as k8s from '@kubernetes/client-node';
import type { Availability } from '@lattice/protocol';

export const OUTSIDE_HOURS_TAINT_KEY = 'lattice.dev/outside-hours';
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

export interface AvailabilityState {
  /** Inside the window (or no window at all). */
  available: boolean;
  /** Outside the window for longer than the drain grace: running pods must move off. */
  drain: boolean;
}

/** Day of week and minutes since midnight of `at`, as a wall clock in `timeZone` shows them. */
function wallClock(at: Date, timeZone: string): { day: (typeof DAYS)[number]; minutes: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = get('weekday').slice(0, 3).toLowerCase() as (typeof DAYS)[number];
  return { day, minutes: Number(get('hour')) * 60 + Number(get('minute')) };
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * Whether `at` falls inside the window. A window whose end is before its start spans midnight
 * and belongs to the day it starts on; start == end means the whole day.
 */
export function isWithinWindow(window: Availability | null | undefined, at: Date): boolean {
  if (!window) return true;
  const days = window.days.length ? window.days : DAYS;
  const { day, minutes } = wallClock(at, window.timeZone || 'UTC');
  const start = toMinutes(window.start);
  const end = toMinutes(window.end);
  if (start === end) return days.includes(day);
  if (start < end) return days.includes(day) && minutes >= start && minutes < end;
  const yesterday = DAYS[(DAYS.indexOf(day) + 6) % 7]!;
  return (days.includes(day) && minutes >= start) || (days.includes(yesterday) && minutes < end);
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
