// The apiserver's cron rules (their regular expressions, run in JavaScript) must give the same
// verdict as croner, which computes the run times; and every zone the CRD accepts must work.
import { Cron } from 'croner';
import { CronWorkloadSpec } from './cron-workload.js';
import { TIME_ZONES, cronerError, scheduleRuleErrors } from './cron.js';

const valid = [
  '* * * * *',
  '*/5 * * * *',
  '30 2 * * *',
  '0 0 1 1 *',
  '0 9-17 * * 1-5',
  '0 9-17/2 * * MON-FRI',
  '15,45 * * * *',
  '0 0 1,15 * *',
  '0 0 * JAN,MAR-MAY *',
  '0 0 * jan-dec/3 *',
  '0 0 * * sun',
  '0 0 * * 7',
  '0 0 * * 0,7',
  '0 0 * * SAT-SUN',
  '0 0 * * 0-7/7',
  '0 0 31 2 *',
  '00 05 * * *',
  '*/60 * * * *',
  '0 */24 * * *',
  '0 0 */31 * *',
  '0 0 * */12 *',
  '59-59 * * * *',
  '1-1,5,*/10 * * * *',
  '0\t0  * * *',
  ' 0 0 * * * ',
  '@hourly',
  '@daily',
  '@weekly',
  '@monthly',
  '@yearly',
  '@Daily',
];

const invalid = [
  '',
  '* * * *',
  '* * * * * *',
  'every day',
  '60 * * * *',
  '0 24 * * *',
  '0 0 0 * *',
  '0 0 32 * *',
  '0 0 * 0 *',
  '0 0 * 13 *',
  '0 0 * * 8',
  '-1 * * * *',
  '+1 * * * *',
  '1.5 * * * *',
  'a * * * *',
  '0 0 * * FRIDAY',
  '0 0 * JANUARY *',
  '1,,2 * * * *',
  '1- * * * *',
  '- * * * *',
  '*/0 * * * *',
  '*/61 * * * *',
  '0 */25 * * *',
  '0 0 */32 * *',
  '0 0 * */13 *',
  '0 0 * * */8',
  '5/15 * * * *',
  '* */2/3 * * *',
  '1-5-7 * * * *',
  '*/1-5 * * * *',
  '5-1 * * * *',
  '0 23-1 * * *',
  '0 0 * DEC-JAN *',
  '0 0 * * FRI-MON',
  '0 0 * * 7-0',
  '@reboot',
];

// Croner extensions (Quartz-style and more macros) that the API does not offer.
const refusedOnPurpose = ['0 0 L * *', '0 0 15W * *', '0 0 * * 5L', '0 0 * * 5#2', '0 0 ? * *', '@annually', '@midnight'];

describe('cron schedules', () => {
  test.each(valid)('%j is accepted by the rules and by croner', (schedule) => {
    expect(scheduleRuleErrors(schedule)).toEqual([]);
    expect(cronerError(schedule)).toBeUndefined();
  });

  test.each(invalid)('%j is refused by the rules and by croner', (schedule) => {
    expect(scheduleRuleErrors(schedule)).not.toEqual([]);
    expect(cronerError(schedule)).toBeDefined();
  });

  test.each(refusedOnPurpose)('croner extension %j is refused by the rules', (schedule) => {
    expect(cronerError(schedule)).toBeUndefined();
    expect(scheduleRuleErrors(schedule)).not.toEqual([]);
  });

  test('a refused schedule names the field that is wrong and what it allows', () => {
    expect(scheduleRuleErrors('0 24 * * *')).toEqual([
      'hour (the 2nd field) must be 0-23: *, a value, a range a-b, a step */n or a-b/n, or a comma-separated list of these',
    ]);
    expect(scheduleRuleErrors('0 0 * * FRI-MON')).toEqual([
      'a range must run from low to high, e.g. 1-5 or MON-FRI; write FRI-MON as FRI-SAT,SUN-MON',
    ]);
  });
});

describe('time zones', () => {
  test('every zone the CRD accepts is one croner can schedule in', () => {
    const unusable = TIME_ZONES.filter((timezone) => {
      try {
        new Cron('0 0 * * *', { timezone, paused: true }).nextRun();
        return false;
      } catch {
        return true;
      }
    });
    expect(unusable).toEqual([]);
  });

  test.each(['UTC', 'Etc/UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Asia/Calcutta', 'Europe/Kyiv'])(
    '%s is accepted',
    (timeZone) => {
      expect(CronWorkloadSpec.safeParse({ schedule: '@daily', timeZone, template: { image: 'busybox' } }).success).toBe(true);
    },
  );

  test.each(['Mars/Olympus', 'utc', 'Europe/berlin', 'GMT+1', ''])('%j is refused', (timeZone) => {
    const result = CronWorkloadSpec.safeParse({ schedule: '@daily', timeZone, template: { image: 'busybox' } });
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain('timeZone');
  });
});
