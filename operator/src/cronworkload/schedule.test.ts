import { decide, parseSchedule, type CronSchedule, type ScheduleHistory, type ScheduleSpec } from './schedule.js';

const spec = (overrides: Partial<ScheduleSpec> = {}): ScheduleSpec => ({
  schedule: '*/5 * * * *',
  timeZone: 'UTC',
  suspend: false,
  concurrencyPolicy: 'Forbid',
  ...overrides,
});

/** A CronWorkload created long ago whose status, for this generation, says `nextScheduleTime`. */
const seen = (nextScheduleTime: string, overrides: Partial<ScheduleHistory> = {}): ScheduleHistory => ({
  createdAt: new Date('2020-01-01T00:00:00Z'),
  generation: 1,
  observedGeneration: 1,
  nextScheduleTime: new Date(nextScheduleTime),
  active: [],
  ...overrides,
});

function cron(schedule: string, timeZone = 'UTC'): CronSchedule {
  const parsed = parseSchedule(schedule, timeZone);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed;
}

function decideAt(now: string, s: ScheduleSpec, history: ScheduleHistory) {
  return decide(cron(s.schedule, s.timeZone), s, history, new Date(now));
}

/** The next `n` run times after `from`, as ISO strings. */
function runsAfter(schedule: string, timeZone: string, from: string, n: number): string[] {
  const c = cron(schedule, timeZone);
  const times: string[] = [];
  for (let t = c.after(new Date(from)); t && times.length < n; t = c.after(t)) times.push(t.toISOString());
  return times;
}

describe('run times', () => {
  test('are read in the time zone', () => {
    expect(runsAfter('0 9 * * *', 'Asia/Tokyo', '2026-06-01T12:00:00Z', 1)).toEqual(['2026-06-02T00:00:00.000Z']);
    expect(runsAfter('0 9 * * *', 'America/New_York', '2026-06-01T12:00:00Z', 1)).toEqual(['2026-06-01T13:00:00.000Z']);
    expect(runsAfter('0 9 * * *', 'America/New_York', '2026-12-01T12:00:00Z', 1)).toEqual(['2026-12-01T14:00:00.000Z']);
    expect(runsAfter('@daily', 'Asia/Kolkata', '2026-06-01T12:00:00Z', 1)).toEqual(['2026-06-01T18:30:00.000Z']);
  });

  // Spring forward: 02:30 does not exist that night. A fixed-time job runs at the first time after
  // the gap, on the same day (as Vixie cron), then at 02:30 again.
  test.each([
    ['America/New_York', '2026-03-08T05:00:00Z', ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']],
    ['Europe/Berlin', '2026-03-28T23:00:00Z', ['2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']],
  ])('02:30 in %s runs once after the spring-forward gap', (tz, from, expected) => {
    expect(runsAfter('30 2 * * *', tz, from, 2)).toEqual(expected);
  });

  // Fall back: the local time occurs twice. A fixed-time job runs once, at the first occurrence.
  test.each([
    ['30 2 * * *', 'Europe/Berlin', '2026-10-24T23:00:00Z', ['2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']],
    ['30 1 * * *', 'America/New_York', '2026-11-01T03:00:00Z', ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']],
  ])('%s in %s runs once in the repeated hour of the fall-back', (schedule, tz, from, expected) => {
    expect(runsAfter(schedule, tz, from, 2)).toEqual(expected);
  });

  test('an interval schedule runs through both passes of the repeated hour', () => {
    expect(runsAfter('*/30 * * * *', 'Europe/Berlin', '2026-10-24T23:45:00Z', 5)).toEqual([
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET
      '2026-10-25T01:30:00.000Z', // 02:30 CET
      '2026-10-25T02:00:00.000Z',
    ]);
  });

  test('the second pass through 02:30 Berlin does not run the daily job again', () => {
    const s = spec({ schedule: '30 2 * * *', timeZone: 'Europe/Berlin' });
    const history = seen('2026-10-26T01:30:00Z', { lastScheduleTime: new Date('2026-10-25T00:30:00Z') });
    expect(decideAt('2026-10-25T01:30:30Z', s, history)).toEqual({ next: new Date('2026-10-26T01:30:00Z') });
  });
});

describe('invalid schedules and time zones', () => {
  test.each([
    ['61 * * * *', 'UTC'],
    ['* * * *', 'UTC'],
    ['* * 31 2 MON-FRI extra', 'UTC'],
    ['not a schedule', 'UTC'],
  ])('"%s" is refused', (schedule, tz) => {
    expect(parseSchedule(schedule, tz)).toEqual({ error: expect.stringContaining(`spec.schedule "${schedule}"`) });
  });

  test('an unknown time zone is refused when parsed, not when a reconcile computes a time', () => {
    const parsed = parseSchedule('0 3 * * *', 'Mars/Olympus_Mons');
    expect(parsed).toEqual({ error: expect.stringMatching(/in time zone "Mars\/Olympus_Mons" cannot be run: .*timezone/i) });
  });
});

describe('due runs', () => {
  test('nothing is due before the next time; it is the next wake-up', () => {
    expect(decideAt('2026-01-01T10:03:00Z', spec(), seen('2026-01-01T10:05:00Z'))).toEqual({ next: new Date('2026-01-01T10:05:00Z') });
  });

  test('a run is due at its time exactly, and is not late', () => {
    expect(decideAt('2026-01-01T10:05:00Z', spec(), seen('2026-01-01T10:05:00Z'))).toEqual({
      due: { action: 'start', time: new Date('2026-01-01T10:05:00Z'), late: false },
      missed: undefined,
      next: new Date('2026-01-01T10:10:00Z'),
    });
  });

  test('after downtime, one catch-up run for the latest due time; the earlier ones are missed', () => {
    const decision = decideAt('2026-01-01T10:37:00Z', spec(), seen('2026-01-01T10:00:00Z'));
    expect(decision.due).toEqual({ action: 'start', time: new Date('2026-01-01T10:35:00Z'), late: true });
    expect(decision.missed).toEqual({
      count: 7,
      message: expect.stringMatching(/^7 runs due from 2026-01-01T10:00:00.000Z were not started in time .* only the latest due run, at 2026-01-01T10:35:00.000Z, is considered$/),
    });
    expect(decision.next).toEqual(new Date('2026-01-01T10:40:00Z'));
  });

  test('after a year of downtime, still one run, and no error about too many missed times', () => {
    const decision = decideAt('2027-01-01T00:00:30Z', spec({ schedule: '* * * * *' }), seen('2026-01-01T00:00:00Z'));
    expect(decision.due).toEqual({ action: 'start', time: new Date('2027-01-01T00:00:00Z'), late: false });
    expect(decision.missed?.message).toMatch(/^more than 100 runs due from 2026-01-01T00:00:00.000Z/);
  });

  test('a new CronWorkload counts from its creation: one catch-up if Lattice was down when it was due', () => {
    const created = { createdAt: new Date('2026-01-01T09:58:00Z'), generation: 1, active: [] };
    expect(decideAt('2026-01-01T10:07:00Z', spec(), created)).toMatchObject({
      due: { action: 'start', time: new Date('2026-01-01T10:05:00Z') },
      missed: { count: 1 },
    });
    expect(decideAt('2026-01-01T09:58:01Z', spec(), created)).toEqual({ next: new Date('2026-01-01T10:00:00Z') });
  });

  test('a changed spec counts from now: no run for a time the old status promised', () => {
    const history = seen('2026-01-01T10:00:00Z', { generation: 2 });
    expect(decideAt('2026-01-01T10:07:00Z', spec(), history)).toEqual({ next: new Date('2026-01-01T10:10:00Z') });
  });

  test('a run status does not show yet is not started again', () => {
    const history = seen('2026-01-01T10:00:00Z', { lastScheduleTime: new Date('2026-01-01T10:00:00Z') });
    expect(decideAt('2026-01-01T10:02:00Z', spec(), history)).toEqual({ next: new Date('2026-01-01T10:05:00Z') });
  });
});

describe('startingDeadlineSeconds', () => {
  test('a run later than the deadline is missed, with the reason', () => {
    const decision = decideAt('2026-01-01T10:37:00Z', spec({ startingDeadlineSeconds: 60 }), seen('2026-01-01T10:35:00Z'));
    expect(decision.due).toEqual({
      action: 'miss',
      time: new Date('2026-01-01T10:35:00Z'),
      reason: 'MissedSchedule',
      message: 'the run due at 2026-01-01T10:35:00.000Z was not started: it is 120s late, more than startingDeadlineSeconds (60)',
    });
    expect(decision.next).toEqual(new Date('2026-01-01T10:40:00Z'));
  });

  test('a run within the deadline starts', () => {
    const decision = decideAt('2026-01-01T10:37:00Z', spec({ startingDeadlineSeconds: 120 }), seen('2026-01-01T10:35:00Z'));
    expect(decision.due).toEqual({ action: 'start', time: new Date('2026-01-01T10:35:00Z'), late: true });
  });

  test('0 allows no lateness at all', () => {
    expect(decideAt('2026-01-01T10:35:01Z', spec({ startingDeadlineSeconds: 0 }), seen('2026-01-01T10:35:00Z')).due?.action).toBe('miss');
  });
});

describe('concurrencyPolicy with a run in progress', () => {
  const busy = seen('2026-01-01T10:05:00Z', { active: ['nightly-29433845'] });
  const at = '2026-01-01T10:05:01Z';

  test('Forbid skips the due run for good, saying why', () => {
    expect(decideAt(at, spec({ concurrencyPolicy: 'Forbid' }), busy)).toEqual({
      due: {
        action: 'skip',
        time: new Date('2026-01-01T10:05:00Z'),
        reason: 'RunSkipped',
        message: 'the run due at 2026-01-01T10:05:00.000Z was skipped: run nightly-29433845 is still in progress and concurrencyPolicy is Forbid',
      },
      missed: undefined,
      next: new Date('2026-01-01T10:10:00Z'),
    });
  });

  test('Replace stops the active runs and starts the due one', () => {
    expect(decideAt(at, spec({ concurrencyPolicy: 'Replace' }), busy).due).toEqual({
      action: 'replace',
      time: new Date('2026-01-01T10:05:00Z'),
      late: false,
      replaced: ['nightly-29433845'],
      message: 'stopping nightly-29433845: the run due at 2026-01-01T10:05:00.000Z replaces it (concurrencyPolicy Replace)',
    });
  });

  test('Allow starts the due run beside the active one', () => {
    expect(decideAt(at, spec({ concurrencyPolicy: 'Allow' }), busy).due).toEqual({ action: 'start', time: new Date('2026-01-01T10:05:00Z'), late: false });
  });

  test('without a run in progress every policy starts the due run', () => {
    for (const concurrencyPolicy of ['Allow', 'Forbid', 'Replace'] as const) {
      expect(decideAt(at, spec({ concurrencyPolicy }), seen('2026-01-01T10:05:00Z')).due?.action).toBe('start');
    }
  });
});

describe('suspend', () => {
  test('nothing is due and there is no next run while suspended', () => {
    expect(decideAt('2026-01-01T10:37:00Z', spec({ suspend: true }), seen('2026-01-01T10:00:00Z'))).toEqual({});
  });

  test('resuming (a new generation) does not start the runs due while suspended', () => {
    const resumed = { createdAt: new Date('2020-01-01T00:00:00Z'), generation: 3, observedGeneration: 2, active: [] };
    expect(decideAt('2026-01-01T10:37:00Z', spec(), resumed)).toEqual({ next: new Date('2026-01-01T10:40:00Z') });
  });
});
