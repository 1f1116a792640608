import { jest } from '@jest/globals';
import { ExponentialBackoff } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

const queue = () => new WorkQueue(new ExponentialBackoff());

afterEach(() => {
  jest.useRealTimers();
});

test('hands out keys in order, each once however often it was added', async () => {
  const q = queue();
  q.add('a');
  q.add('b');
  q.add('a');
  expect(q.length).toBe(2);
  expect(await q.get()).toBe('a');
  expect(await q.get()).toBe('b');
  expect(q.length).toBe(0);
});

test('a key added while processed comes back once it is done, never to two workers at once', async () => {
  const q = queue();
  q.add('a');
  const key = await q.get();
  q.add('a');
  q.add('a');
  expect(q.length).toBe(0); // not handed out while in process
  q.done(key!);
  expect(q.length).toBe(1);
  expect(await q.get()).toBe('a');
  q.done('a');
  expect(q.length).toBe(0);
});

test('a waiting worker receives the next key added', async () => {
  const q = queue();
  const next = q.get();
  q.add('a');
  expect(await next).toBe('a');
});

test('shutdown releases waiting workers and hands out nothing more', async () => {
  const q = queue();
  const waiting = q.get();
  q.shutdown();
  expect(await waiting).toBeUndefined();
  q.add('a');
  expect(await q.get()).toBeUndefined();
});

test('addAfter adds the key once the delay passed; the earliest of two delays wins', () => {
  jest.useFakeTimers();
  const q = queue();
  q.addAfter('a', 1_000);
  q.addAfter('a', 5_000);
  q.addAfter('a', 500);
  jest.advanceTimersByTime(499);
  expect(q.length).toBe(0);
  jest.advanceTimersByTime(1);
  expect(q.length).toBe(1);
  jest.advanceTimersByTime(10_000);
  expect(q.length).toBe(1); // the later delays were dropped, not added again
});

test('addRateLimited backs off exponentially per key until forgotten', async () => {
  jest.useFakeTimers();
  const q = queue();
  /** Ms until a rate-limited add of 'a' is queued (at most 100), then processes it. */
  const requeuedAfter = async () => {
    q.addRateLimited('a');
    let waited = 0;
    while (q.length === 0 && waited < 100) {
      jest.advanceTimersByTime(1);
      waited += 1;
    }
    q.done((await q.get())!);
    return waited;
  };
  expect([await requeuedAfter(), await requeuedAfter(), await requeuedAfter()]).toEqual([5, 10, 20]);
  expect(q.retries('a')).toBe(3);
  q.forget('a');
  expect(await requeuedAfter()).toBe(5);
});

test('shutdown drops pending delayed adds', () => {
  jest.useFakeTimers();
  const q = queue();
  q.addAfter('a', 100);
  q.shutdown();
  jest.advanceTimersByTime(1_000);
  expect(q.length).toBe(0);
});
