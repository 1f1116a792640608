import { INITIAL_BACKOFF_MS, MAX_BACKOFF_MS, backoffRemaining, nextBackoff } from './backoff.js';

describe('crash back-off', () => {
  it('restarts the first crash at once, then waits 10 s doubling up to 5 min', () => {
    let entry = undefined as ReturnType<typeof nextBackoff> | undefined;
    let t = 1_000_000;
    const waits: number[] = [];
    for (let crash = 0; crash < 8; crash++) {
      waits.push(backoffRemaining(entry, t, t));
      entry = nextBackoff(entry, t);
      t += waits.at(-1)! + 1_000; // restarted when allowed, crashed a second later
    }
    expect(waits).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
  });

  it('counts the wait from the failure, not from now', () => {
    const entry = nextBackoff(undefined, 0);
    expect(backoffRemaining(entry, 5_000, 12_000)).toBe(INITIAL_BACKOFF_MS - 7_000);
    expect(backoffRemaining(entry, 5_000, 20_000)).toBe(0);
  });

  it('forgets a container that ran quietly for twice the maximum', () => {
    let entry = nextBackoff(undefined, 0);
    entry = nextBackoff(entry, 1_000);
    expect(entry.delayMs).toBe(2 * INITIAL_BACKOFF_MS);
    const later = 1_000 + 2 * MAX_BACKOFF_MS + 1;
    expect(backoffRemaining(entry, later, later)).toBe(0);
    expect(nextBackoff(entry, later)).toEqual({ delayMs: INITIAL_BACKOFF_MS, since: later });
  });
});
