/**
 * Work that reads the newest state when it runs: asked while it runs, it runs once more after,
 * however many times it was asked. One run at a time, the last one sees the last change.
 */
export class Rerun {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly work: () => Promise<void>) {}

  /** Runs the work, or marks it to run again when it is running (resolves at once then). */
  request(): Promise<void> {
    if (this.running) {
      this.again = true;
      return Promise.resolve();
    }
    const run = (async () => {
      do {
        this.again = false;
        await this.work();
      } while (this.again);
    })().finally(() => (this.running = undefined));
    this.running = run;
    return run;
  }

  /** Until the run in progress, if any, is over. */
  async settled(): Promise<void> {
    await this.running?.catch(() => undefined);
  }
}
