import { Rerun } from './rerun.js';

test('asked while running, it runs once more after, however many times it was asked', async () => {
  let runs = 0;
  let release!: () => void;
  const rerun = new Rerun(async () => {
    runs++;
    if (runs === 1) await new Promise<void>((resolve) => (release = resolve));
  });
  const first = rerun.request();
  for (let i = 0; i < 5; i++) await rerun.request();
  expect(runs).toBe(1);
  release();
  await first;
  expect(runs).toBe(2);
  await rerun.request();
  expect(runs).toBe(3);
});

test('a failed run ends the round, is the caller\'s to see, and does not stop the next request', async () => {
  let fail = true;
  const rerun = new Rerun(async () => {
    if (fail) throw new Error('no');
  });
  await expect(rerun.request()).rejects.toThrow('no');
  await rerun.settled();
  fail = false;
  await expect(rerun.request()).resolves.toBeUndefined();
});
