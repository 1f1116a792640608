import { rejectionMessage } from './scripts.js';

test("PostgreSQL's message without its log prefix", () => {
  const stderr = '2026-01-02 03:04:05.678 GMT [52] FATAL:  invalid value for parameter "work_mem": "banana"\n';
  expect(rejectionMessage(stderr)).toBe('invalid value for parameter "work_mem": "banana"');
});

test('several lines (a hint) are joined', () => {
  const stderr = '2026-01-02 03:04:05.678 GMT [9] FATAL:  unrecognized configuration parameter "foo"\n2026-01-02 03:04:05.678 GMT [9] HINT:  Check the name.\n';
  expect(rejectionMessage(stderr)).toBe('unrecognized configuration parameter "foo"; Check the name.');
});
