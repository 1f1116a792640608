// What an Offer's availability window means, in one place for both sides: the gateway taints the
// Node outside it, the desktop app says "outside hours". Pure: the clock is a parameter.
import type { Availability } from './messages.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

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
