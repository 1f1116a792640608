// Per-key exponential backoff for failed reconciles, as client-go's
// ItemExponentialFailureRateLimiter: 5 ms after the first failure, doubling each time, at most
// 1000 s; a success forgets the key, so its next failure starts again at 5 ms.

export interface RateLimiter {
  /** How long to wait before retrying `key`; counts one more failure for it. */
  when(key: string): number;
  /** Failures counted for `key` since it was last forgotten. */
  retries(key: string): number;
  /** Clears the failures of `key` (it was reconciled). */
  forget(key: string): void;
}

export class ExponentialBackoff implements RateLimiter {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseDelayMs = 5,
    private readonly maxDelayMs = 1_000_000,
  ) {}

  when(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    // 2 ** failures overflows to Infinity long after the cap is reached; Math.min keeps it finite.
    return Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}
