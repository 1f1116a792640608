// The deaths of this node's containers, from Docker's event stream rather than by polling. The
// stream is reopened when it drops, from the time of the last event seen, so none is missed.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { LABEL } from './naming.js';

export interface ContainerDied {
  containerId: string;
  labels: Record<string, string>;
}

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

interface RawEvent {
  Type?: string;
  Action?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  timeNano?: number;
}

export class ContainerDeathWatch {
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private since = 0;
  private reconnectDelay = RECONNECT_MIN_MS;

  constructor(
    private readonly docker: Docker,
    private readonly nodeName: string,
    private readonly logger: Logger,
    private readonly onDied: (event: ContainerDied) => void,
  ) {}

  /** Watches from `since` (unix seconds): deaths since then are replayed first. */
  start(since: number): void {
    this.since = since;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort.abort();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    try {
      const stream = await this.docker.getEvents({
        since: this.since,
        filters: { type: ['container'], event: ['die'], label: [`${LABEL.node}=${this.nodeName}`] },
        abortSignal: this.abort.signal,
      });
      this.reconnectDelay = RECONNECT_MIN_MS;
      await this.read(stream);
      if (!this.stopped) this.logger.warn('Docker event stream ended; reopening it');
    } catch (err) {
      if (this.stopped) return;
      this.logger.warn({ err }, 'Docker event stream failed; reopening it');
    }
    this.timer = setTimeout(() => void this.connect(), this.reconnectDelay);
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, RECONNECT_MAX_MS);
  }

  private async read(stream: NodeJS.ReadableStream): Promise<void> {
    let buffered = '';
    for await (const chunk of stream) {
      buffered += String(chunk);
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) this.handle(JSON.parse(line) as RawEvent);
      }
    }
  }

  private handle(event: RawEvent): void {
    if (event.timeNano) this.since = event.timeNano / 1e9;
    const containerId = event.Actor?.ID ?? event.id;
    if (event.Type !== 'container' || event.Action !== 'die' || !containerId) return;
    this.onDied({ containerId, labels: event.Actor?.Attributes ?? {} });
  }
}
