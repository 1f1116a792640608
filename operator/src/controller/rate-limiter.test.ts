import { ExponentialBackoff } from './rate-limiter.js';

test('doubles from 5 ms per failure of a key', () => {
  const backoff = new ExponentialBackoff();
  expect([1, 2, 3, 4, 5].map(() => backoff.when('a'))).toEqual([5, 10, 20, 40, 80]);
  expect(backoff.retries('a')).toBe(5);
});

test('stops at 1000 s, and stays finite however often a key fails', () => {
  const backoff = new ExponentialBackoff();
  const delays = Array.from({ length: 2000 }, () => backoff.when('a'));
  expect(delays[17]).toBe(5 * 2 ** 17); // 655.36 s
  // 5 ms * 2^18 would be 1310.72 s: from the 19th failure on, the cap.
  expect(delays.slice(18).every((d) => d === 1_000_000)).toBe(true);
});

test('keys back off independently, and forget starts a key over', () => {
  const backoff = new ExponentialBackoff();
  backoff.when('a');
  backoff.when('a');
  expect(backoff.when('b')).toBe(5);
  backoff.forget('a');
  expect(backoff.retries('a')).toBe(0);
  expect(backoff.when('a')).toBe(5);
});
