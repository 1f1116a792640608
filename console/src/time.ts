// Times as a user reads them: in their own zone, to the second.
const FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function formatTime(time: string | Date): string {
  return FORMAT.format(typeof time === 'string' ? new Date(time) : time);
}
