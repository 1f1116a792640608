// A dial stream as a Node.js Duplex: what the ingress hands to http.request (createConnection),
// pipes a WebSocket or a raw TCP client into. Bytes written go to the pod's port; bytes the pod
// sends are read. Backpressure both ways: while the reader does not read, the stream's output
// stays in the AgentStream, which pauses the agent past a limit (StreamFlow, see streams.ts);
// writes wait while the agent connection is congested or the agent paused the stream.
import { Duplex } from 'node:stream';
import type { AgentStream } from '../streams.js';

export class TunnelSocket extends Duplex {
  private readWanted: (() => void) | undefined;
  private eof = false;
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly stream: AgentStream) {
    super({ allowHalfOpen: true });
    void this.pump();
  }

  // What http.Agent and ClientRequest call on a net.Socket; a tunnel has no such knobs.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  /** Like net.Socket's: 'timeout' after `ms` without bytes either way (http.Agent drops idle tunnels). */
  setTimeout(ms: number, callback?: () => void): this {
    this.idleMs = ms;
    if (callback) this.once('timeout', callback);
    this.touch();
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.touch();
    this.stream.write(chunk).then(() => callback(), callback);
  }

  /** The client is done sending: half-close towards the pod. */
  override _final(callback: (error?: Error | null) => void): void {
    this.stream.endStdin().then(() => callback(), callback);
  }

  override _read(): void {
    this.readWanted?.();
    this.readWanted = undefined;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    this.stream.close(error ? `the client failed: ${error.message}` : 'the client closed the connection');
    this.readWanted?.();
    callback(error);
  }

  private async pump(): Promise<void> {
    try {
      for await (const { data } of this.stream) {
        if (this.destroyed) return;
        if (data.length === 0) {
          this.endReadable();
          continue;
        }
        this.touch();
        if (!this.push(data)) await new Promise<void>((resolve) => (this.readWanted = resolve));
      }
      const outcome = await this.stream.done;
      if (this.destroyed) return;
      if (outcome.error && !this.eof) {
        this.destroy(new Error(outcome.error));
        return;
      }
      // The pod's connection is closed: end what is left once it was read.
      this.endReadable();
      if (this.readableEnded) this.destroy();
      else this.once('end', () => this.destroy());
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    if (this.idleMs > 0 && !this.destroyed) this.idleTimer = setTimeout(() => this.emit('timeout'), this.idleMs).unref();
  }

  private endReadable(): void {
    if (this.eof) return;
    this.eof = true;
    this.push(null);
  }
}

/** The pod's side is gone: let the client's socket send what it holds, then close it. */
export function endAfterFlush(socket: Duplex): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) socket.destroy();
  else socket.end(() => socket.destroy());
}
