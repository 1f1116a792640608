// A cron schedule in plain words and its next run times, computed in the browser by croner: the
// library the operator schedules runs with, so the preview shows the times the runs will start.
import { Cron } from 'croner';
import cronstrue from 'cronstrue';

export interface SchedulePreview {
  words: string;
  next: Date[];
}

/** Undefined when croner cannot read the schedule (the form shows the schema's message instead). */
export function previewSchedule(schedule: string, timeZone: string, count: number, from = new Date()): SchedulePreview | undefined {
  try {
    const cron = new Cron(schedule.trim(), { mode: '5-part', timezone: timeZone, paused: true });
    const next = cron.nextRuns(count, from);
    const words = cronstrue.toString(schedule.trim(), { verbose: false, use24HourTimeFormat: true, throwExceptionOnParseError: true });
    return { words: `${words} (${timeZone})`, next };
  } catch {
    return undefined;
  }
}
