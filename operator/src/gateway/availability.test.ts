import { availabilityAt, availabilityTaints, isWithinWindow } from './availability.js';

const weekdays = { timeZone: 'Europe/Berlin', days: ['mon', 'tue', 'wed', 'thu', 'fri'] as const, start: '09:00', end: '17:00' };
const nights = { timeZone: 'America/New_York', days: ['fri'] as const, start: '22:00', end: '06:00' };

describe('isWithinWindow', () => {
  test('no window means always available', () => {
    expect(isWithinWindow(undefined, new Date())).toBe(true);
  });

  test('reads the wall clock in the provider time zone', () => {
    // Wednesday 2026-11-25 08:30 UTC is 09:30 in Berlin (CET, UTC+1): inside.
    expect(isWithinWindow({ ...weekdays, days: [...weekdays.days] }, new Date('2026-11-25T08:30:00Z'))).toBe(true);
    // 07:30 UTC is 08:30 in Berlin: before the window.
    expect(isWithinWindow({ ...weekdays, days: [...weekdays.days] }, new Date('2026-11-25T07:30:00Z'))).toBe(false);
    // The end is exclusive: 16:00 UTC is 17:00 in Berlin.
    expect(isWithinWindow({ ...weekdays, days: [...weekdays.days] }, new Date('2026-11-25T16:00:00Z'))).toBe(false);
  });

  test('follows daylight saving time', () => {
    // In July Berlin is UTC+2: 07:30 UTC is 09:30 local, inside.
    expect(isWithinWindow({ ...weekdays, days: [...weekdays.days] }, new Date('2026-07-15T07:30:00Z'))).toBe(true);
  });

  test('weekends are outside a weekday window', () => {
    expect(isWithinWindow({ ...weekdays, days: [...weekdays.days] }, new Date('2026-11-28T10:00:00Z'))).toBe(false);
  });

  test('a window spanning midnight belongs to the day it starts', () => {
    const w = { ...nights, days: [...nights.days] };
    // Friday 23:00 in New York (UTC-5) = Saturday 04:00 UTC.
    expect(isWithinWindow(w, new Date('2026-11-28T04:00:00Z'))).toBe(true);
    // Saturday 05:00 New York = 10:00 UTC: still the Friday night window.
    expect(isWithinWindow(w, new Date('2026-11-28T10:00:00Z'))).toBe(true);
    // Saturday 23:00 New York: Saturday is not a window day.
    expect(isWithinWindow(w, new Date('2026-11-29T04:00:00Z'))).toBe(false);
  });

  test('start equal to end means the whole day', () => {
    expect(isWithinWindow({ timeZone: 'UTC', days: ['wed'], start: '00:00', end: '00:00' }, new Date('2026-11-25T23:59:00Z'))).toBe(true);
  });
});

describe('availabilityAt and taints', () => {
  const closed = { timeZone: 'UTC', days: ['sun' as const], start: '00:00', end: '01:00' };
  const now = new Date('2026-11-25T12:00:00Z');

  test('inside the window: no taint', () => {
    expect(availabilityTaints(availabilityAt(undefined, now, undefined, 60_000))).toEqual([]);
  });

  test('outside: NoSchedule at once, NoExecute after the drain grace', () => {
    const fresh = availabilityAt(closed, now, now, 60_000);
    expect(availabilityTaints(fresh).map((t) => t.effect)).toEqual(['NoSchedule']);
    const later = availabilityAt(closed, new Date(now.getTime() + 61_000), now, 60_000);
    expect(availabilityTaints(later).map((t) => t.effect)).toEqual(['NoSchedule', 'NoExecute']);
  });
});
