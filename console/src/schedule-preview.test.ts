import { previewSchedule } from './schedule-preview.js';

test('a schedule in words, with the next three run times in its time zone', () => {
  const preview = previewSchedule('30 2 * * *', 'Europe/Berlin', 3, new Date('2026-03-01T12:00:00Z'));
  expect(preview?.words).toBe('At 02:30 (Europe/Berlin)');
  expect(preview?.next.map((d) => d.toISOString())).toEqual(['2026-03-02T01:30:00.000Z', '2026-03-03T01:30:00.000Z', '2026-03-04T01:30:00.000Z']);
});

test('macros read in words; a schedule croner cannot read has no preview', () => {
  expect(previewSchedule('@hourly', 'UTC', 1)?.words).toMatch(/every hour/i);
  expect(previewSchedule('61 * * * *', 'UTC', 1)).toBeUndefined();
});
