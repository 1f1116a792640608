// Cron schedules and time zones, checked the same way by the apiserver (CEL) and by zod (the same
// regular expressions in JavaScript, then croner, which computes the run times).
import { Cron } from 'croner';
import { z } from 'zod';
import { withRules, type Rule } from './extensions.js';

const MONTH_NAMES = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** The @ macros a schedule may be instead of five fields. */
export const CRON_MACROS = ['@hourly', '@daily', '@weekly', '@monthly', '@yearly'];

interface CronField {
  name: string;
  allowed: string;
  /** One value (leading zeros allowed, as croner reads them). */
  value: string;
  /** A step after `/`: 1 up to the number of values in the field, as croner allows. */
  step: string;
}

const CRON_FIELDS: CronField[] = [
  { name: 'minute', allowed: '0-59', value: '0*([1-5]?[0-9])', step: '0*([1-9]|[1-5][0-9]|60)' },
  { name: 'hour', allowed: '0-23', value: '0*(1?[0-9]|2[0-3])', step: '0*([1-9]|1[0-9]|2[0-4])' },
  { name: 'day of month', allowed: '1-31', value: '0*([1-9]|[12][0-9]|3[01])', step: '0*([1-9]|[12][0-9]|3[01])' },
  {
    name: 'month',
    allowed: '1-12 or JAN-DEC',
    value: `0*([1-9]|1[0-2])|${MONTH_NAMES.join('|')}`,
    step: '0*([1-9]|1[0-2])',
  },
  { name: 'day of week', allowed: '0-7 (0 and 7 are Sunday) or SUN-SAT', value: `0*[0-7]|${DAY_NAMES.join('|')}`, step: '0*[1-7]' },
];

/**
 * The regular expression (RE2 and JavaScript alike; match it case-insensitively) for one field: a
 * comma-separated list of `*`, `* /step`, a value, `a-b` or `a-b/step`.
 */
function cronFieldPattern({ value, step }: CronField): string {
  const item = `\\*(/(${step}))?|(${value})(-(${value})(/(${step}))?)?`;
  return `^(${item})(,(${item}))*$`;
}

const ORDINALS = ['1st', '2nd', '3rd', '4th', '5th'];
const MACROS_CEL = `[${CRON_MACROS.map((m) => `'${m}'`).join(', ')}]`;
const FIELDS_CEL = String.raw`self.findAll(r'\S+')`;
const SHAPE_MESSAGE = `must be five space-separated fields (minute hour day-of-month month day-of-week, e.g. "30 2 * * *") or one of ${CRON_MACROS.join(', ')}`;

const isMacro = (schedule: string) => CRON_MACROS.includes(schedule.trim().toLowerCase());
const fieldsOf = (schedule: string) => schedule.match(/\S+/g) ?? [];

// Names to numbers, for comparing the ends of ranges. SUN ending a range is 7 (SAT-SUN is 6-7), so
// it is replaced before SUN is; month and day names do not overlap.
const NAME_NUMBERS: [string, string][] = [
  ['-SUN', '-7'],
  ...MONTH_NAMES.map((name, i): [string, string] => [name, String(i + 1)]),
  ...DAY_NAMES.map((name, i): [string, string] => [name, String(i)]),
];
const NUMERIC_RANGE = '[0-9]{1,18}-[0-9]{1,18}';

const scheduleRules: Rule<string>[] = [
  {
    rule: `self.trim().lowerAscii() in ${MACROS_CEL} || ${FIELDS_CEL}.size() == 5`,
    message: SHAPE_MESSAGE,
    check: (s) => isMacro(s) || fieldsOf(s).length === 5,
  },
  ...CRON_FIELDS.map((field, i): Rule<string> => {
    const pattern = cronFieldPattern(field);
    const regex = new RegExp(pattern, 'i');
    return {
      rule: `${FIELDS_CEL}.size() != 5 || ${FIELDS_CEL}[${i}].matches(r'(?i)${pattern}')`,
      message: `${field.name} (the ${ORDINALS[i]} field) must be ${field.allowed}: *, a value, a range a-b, a step */n or a-b/n, or a comma-separated list of these`,
      check: (s) => fieldsOf(s).length !== 5 || regex.test(fieldsOf(s)[i] ?? ''),
    };
  }),
  {
    rule:
      `self.upperAscii()${NAME_NUMBERS.map(([name, n]) => `.replace('${name}', '${n}')`).join('')}` +
      `.findAll('${NUMERIC_RANGE}').all(r, int(r.split('-')[0]) <= int(r.split('-')[1]))`,
    message: 'a range must run from low to high, e.g. 1-5 or MON-FRI; write FRI-MON as FRI-SAT,SUN-MON',
    check: (s) => {
      const numeric = NAME_NUMBERS.reduce((text, [name, n]) => text.replaceAll(name, n), s.toUpperCase());
      return [...numeric.matchAll(new RegExp(NUMERIC_RANGE, 'g'))].every(([range]) => {
        const [lo = 0, hi = 0] = range.split('-').map(Number);
        return lo <= hi;
      });
    },
  },
];

/**
 * The messages of the rules a schedule breaks: the apiserver's answer, computed in JavaScript from
 * the same regular expressions. Empty if the apiserver accepts it.
 */
export function scheduleRuleErrors(schedule: string): string[] {
  return scheduleRules.filter(({ check }) => check && !check(schedule)).map(({ message }) => message);
}

/** The error croner reports for a schedule, or undefined if croner can run it. */
export function cronerError(schedule: string): string | undefined {
  try {
    new Cron(schedule, { mode: '5-part', paused: true });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export const Schedule = withRules(z.string().min(1).max(128), ...scheduleRules)
  .superRefine(
    (schedule, ctx) => {
      const error = cronerError(schedule);
      if (error !== undefined) ctx.addIssue({ code: 'custom', message: error, input: schedule });
    },
    // Croner computes the run times, so it has the last word; its messages are less helpful than
    // the rules' above, so ask it only when they all passed.
    { when: (payload) => payload.issues.length === 0 },
  )
  .describe(
    `When to run, in cron syntax: "minute hour day-of-month month day-of-week" (e.g. "30 2 * * *" is 02:30 every day), or one of ${CRON_MACROS.join(', ')}.`,
  );

// ICU, and so Intl, still lists these zones under names IANA has since replaced (Asia/Calcutta for
// Asia/Kolkata); the current names are what people write.
const CURRENT_IANA_NAMES = [
  'Africa/Asmara',
  'America/Argentina/Buenos_Aires',
  'America/Argentina/Catamarca',
  'America/Argentina/Cordoba',
  'America/Argentina/Jujuy',
  'America/Argentina/Mendoza',
  'America/Atikokan',
  'America/Indiana/Indianapolis',
  'America/Kentucky/Louisville',
  'America/Nuuk',
  'Asia/Ho_Chi_Minh',
  'Asia/Kathmandu',
  'Asia/Kolkata',
  'Asia/Yangon',
  'Atlantic/Faroe',
  'Europe/Kyiv',
  'Pacific/Chuuk',
  'Pacific/Kanton',
  'Pacific/Pohnpei',
];

/**
 * IANA time zone names, as the JavaScript runtime knows them, plus the UTC aliases and current
 * names it leaves out. The CRD carries the list of the Node.js that generated it; a browser may
 * know a few more or fewer.
 */
export const TIME_ZONES: readonly string[] = [
  ...new Set(['UTC', 'Etc/UTC', ...CURRENT_IANA_NAMES, ...Intl.supportedValuesOf('timeZone')]),
].sort();

const timeZoneSet = new Set(TIME_ZONES);

export const TimeZone = withRules(z.string().min(1).max(64), {
  rule: `self in [${TIME_ZONES.map((tz) => `'${tz}'`).join(', ')}]`,
  message: 'must be an IANA time zone name such as UTC, Europe/Berlin or America/New_York',
  check: (tz) => timeZoneSet.has(tz),
}).describe('IANA time zone the schedule is read in, e.g. Europe/Berlin.');
