// Byte streams multiplexed over one agent connection: a container's log, an exec session, or a
// dial stream (a TCP connection to a port of one of the node's pods; see ingress/tunnel.ts).
//
// The gateway opens every stream (OpenStream with a fresh random id) and the agent answers with
// StreamData on channel 1 (stdout) / 2 (stderr) and one StreamEnd carrying the outcome. Anything
// the agent sends for an id the gateway did not open (or has closed) is dropped and counted: an
// agent cannot inject output into another stream, nor make the gateway allocate state.
//
// Conventions on top of agent.proto, which both sides must share:
//  - StreamData on channel 0 with empty data, gateway -> agent: stdin reached EOF (the process
//    should see its stdin closed); the exec stream stays open for output and the exit code.
//  - StreamEnd gateway -> agent: the client went away; stop following the log / end the exec
//    session. The agent answers nothing more for that id.
//
// Backpressure: the agent connection is one gRPC stream shared by every pod of the node, so a slow
// HTTP client must not stall it. Output is buffered per stream up to a byte limit; a client that
// falls further behind loses its stream (with an error saying so) instead of growing the gateway's
// memory. Towards the agent, `send` reports a congested transport like Writable.write does, and
// AgentStream.write waits until the connection code calls `drained()`. Dial streams add flow
// control in both directions (StreamFlow): their reader pauses the agent instead of falling behind.
import { randomUUID } from 'node:crypto';
import type { AgentMessage, DialOptions, ExecOptions, GatewayMessage, LogOptions } from '@lattice/protocol';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

export type OutputChannel = typeof STDOUT | typeof STDERR;
export type StreamKind = 'logs' | 'exec' | 'dial' | 'service';

export type StreamRequest = { podUid: string; container: string } & (
  | { kind: 'logs'; logs: LogOptions }
  | { kind: 'exec'; exec: ExecOptions }
  | { kind: 'dial'; dial: DialOptions }
);

export interface OutputChunk {
  channel: OutputChannel;
  data: Buffer;
}

/** How a stream ended: the agent's exit code and error, or why the gateway ended it. */
export interface StreamOutcome {
  exitCode?: number;
  error?: string;
}

/** What the multiplexer reports, so the caller can export it (see kubelet-api/metrics.ts). */
export interface StreamObserver {
  opened(kind: StreamKind): void;
  closed(kind: StreamKind): void;
  relayed(direction: 'toAgent' | 'fromAgent', bytes: number): void;
  dropped(reason: 'unknownStream' | 'badChannel'): void;
}

export interface StreamMuxOptions {
  /** Queues one message on the agent's stream; false when the transport's buffer is full. */
  send: (msg: GatewayMessage) => boolean;
  /** Output bytes held for one slow reader before its stream is aborted. */
  maxBufferedBytes?: number;
  observer?: StreamObserver;
}

/** The largest StreamData payload the protocol allows. */
const MAX_CHUNK = 1024 * 1024;
const DEFAULT_MAX_BUFFERED = 8 * 1024 * 1024;
/** Dial and service streams: the agent is paused past this much unread output, resumed below the second. */
const PAUSE_AT = 1024 * 1024;
const RESUME_AT = 256 * 1024;
const FLOW_CONTROLLED: ReadonlySet<StreamKind> = new Set(['dial', 'service']);

type StreamMessage = Extract<AgentMessage, { msg: 'streamData' | 'streamEnd' | 'streamFlow' }>;

export class StreamMux {
  private readonly streams = new Map<string, AgentStream>();
  private readonly maxBufferedBytes: number;
  private congestion: { promise: Promise<void>; release: () => void } | undefined;
  private closedReason: string | undefined;

  constructor(private readonly options: StreamMuxOptions) {
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  }

  /** Asks the agent to open a stream; its output arrives through the returned AgentStream. */
  open(request: StreamRequest): AgentStream {
    if (this.closedReason !== undefined) {
      throw new Error(`the agent connection is closed: ${this.closedReason}`);
    }
    const id = randomUUID();
    const stream = new AgentStream(id, request.kind, this, this.maxBufferedBytes);
    this.streams.set(id, stream);
    this.options.observer?.opened(request.kind);
    const { podUid, container } = request;
    const openStream =
      request.kind === 'logs'
        ? { streamId: id, podUid, container, kind: 'logs' as const, logs: request.logs }
        : request.kind === 'exec'
          ? { streamId: id, podUid, container, kind: 'exec' as const, exec: request.exec }
          : { streamId: id, podUid, container, kind: 'dial' as const, dial: request.dial };
    void this.send({ msg: 'openStream', openStream });
    return stream;
  }

  /**
   * A stream the agent opened (a pod connecting to a Service: ServiceDial), under the agent's id;
   * undefined when that id is taken. From then on it is like any stream the gateway opened.
   */
  accept(streamId: string): AgentStream | undefined {
    if (this.closedReason !== undefined || this.streams.has(streamId)) return undefined;
    const stream = new AgentStream(streamId, 'service', this, this.maxBufferedBytes);
    this.streams.set(streamId, stream);
    this.options.observer?.opened('service');
    return stream;
  }

  /** Routes a streamData/streamEnd message from the agent. */
  handle(message: StreamMessage): void {
    const streamId =
      message.msg === 'streamData' ? message.streamData.streamId : message.msg === 'streamEnd' ? message.streamEnd.streamId : message.streamFlow.streamId;
    const stream = this.streams.get(streamId);
    if (!stream) {
      this.options.observer?.dropped('unknownStream');
      return;
    }
    if (message.msg === 'streamFlow') {
      stream.remotePaused(message.streamFlow.paused);
      return;
    }
    if (message.msg === 'streamEnd') {
      const { exitCode, error } = message.streamEnd;
      stream.finish({ ...(exitCode != null ? { exitCode } : {}), ...(error ? { error } : {}) }, false);
      return;
    }
    const { channel, data } = message.streamData;
    if (channel !== STDOUT && channel !== STDERR) {
      this.options.observer?.dropped('badChannel');
      return;
    }
    this.options.observer?.relayed('fromAgent', data.byteLength);
    stream.deliver({ channel, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) });
  }

  /** The connection code calls this when the transport's buffer has room again ('drain'). */
  drained(): void {
    this.congestion?.release();
    this.congestion = undefined;
  }

  /** Ends every stream: the agent disconnected. */
  closeAll(reason: string): void {
    this.closedReason = reason;
    for (const stream of [...this.streams.values()]) {
      stream.finish({ error: `the node's agent disconnected: ${reason}` }, false);
    }
    this.drained();
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** @internal Sends a message for a stream; resolves once the transport can take more. */
  send(msg: GatewayMessage): Promise<void> {
    if (msg.msg === 'streamData') this.options.observer?.relayed('toAgent', msg.streamData.data.byteLength);
    if (this.options.send(msg) || this.closedReason !== undefined) return Promise.resolve();
    if (!this.congestion) {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => (release = resolve));
      this.congestion = { promise, release };
    }
    return this.congestion.promise;
  }

  /** @internal */
  forget(stream: AgentStream): void {
    if (this.streams.delete(stream.id)) this.options.observer?.closed(stream.kind);
  }
}

/**
 * One stream opened on the agent. Iterate it for output chunks in arrival order; the iteration
 * ends when the stream does, and throws if it was aborted because the reader fell behind.
 */
export class AgentStream implements AsyncIterable<OutputChunk> {
  readonly done: Promise<StreamOutcome>;
  private resolveDone!: (outcome: StreamOutcome) => void;
  private readonly chunks: OutputChunk[] = [];
  private bufferedBytes = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  /** While the agent asked for a pause (dial streams): resolves when it resumes or the stream ends. */
  private paused: { promise: Promise<void>; release: () => void } | undefined;
  /** We asked the agent to pause (dial streams): too much output is unread. */
  private pausedAgent = false;

  constructor(
    readonly id: string,
    readonly kind: StreamKind,
    private readonly mux: StreamMux,
    private readonly maxBufferedBytes: number,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /**
   * Sends stdin to the process (the bytes towards the pod, for a dial stream); resolves when the
   * agent connection can take more and the agent has not paused the stream.
   */
  async write(data: Uint8Array): Promise<void> {
    for (let offset = 0; offset < data.byteLength && !this.ended; offset += MAX_CHUNK) {
      await this.paused?.promise;
      const part = Buffer.from(data.buffer, data.byteOffset + offset, Math.min(MAX_CHUNK, data.byteLength - offset));
      await this.mux.send({ msg: 'streamData', streamData: { streamId: this.id, channel: STDIN, data: part } });
    }
  }

  /** Asks the agent to stop (or resume) sending output: the reader cannot take more for now. */
  private flow(paused: boolean): void {
    if (this.ended || this.pausedAgent === paused) return;
    this.pausedAgent = paused;
    void this.mux.send({ msg: 'streamFlow', streamFlow: { streamId: this.id, paused } });
  }

  /** @internal The agent paused or resumed the bytes towards it. */
  remotePaused(paused: boolean): void {
    if (paused && !this.paused && !this.ended) {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => (release = resolve));
      this.paused = { promise, release };
    } else if (!paused) {
      this.paused?.release();
      this.paused = undefined;
    }
  }

  /** Closes the process's stdin (see the conventions at the top of this file). */
  async endStdin(): Promise<void> {
    if (this.ended) return;
    await this.mux.send({ msg: 'streamData', streamData: { streamId: this.id, channel: STDIN, data: Buffer.alloc(0) } });
  }

  resize(width: number, height: number): void {
    if (this.ended) return;
    void this.mux.send({ msg: 'streamResize', streamResize: { streamId: this.id, width, height } });
  }

  /** Ends the stream from the gateway's side: the client is gone or the request is over. */
  close(reason = 'closed by the client'): void {
    if (this.ended) return;
    void this.mux.send({ msg: 'streamEnd', streamEnd: { streamId: this.id, error: '' } });
    this.finish({ error: reason }, false);
  }

  /** @internal */
  deliver(chunk: OutputChunk): void {
    if (this.ended) return;
    this.bufferedBytes += chunk.data.byteLength;
    if (this.bufferedBytes > this.maxBufferedBytes) {
      void this.mux.send({ msg: 'streamEnd', streamEnd: { streamId: this.id, error: '' } });
      this.finish({ error: `the client fell more than ${this.maxBufferedBytes} bytes behind the stream` }, true);
      return;
    }
    this.chunks.push(chunk);
    if (FLOW_CONTROLLED.has(this.kind) && this.bufferedBytes > PAUSE_AT) this.flow(true);
    this.wakeReader();
  }

  /** @internal Ends the stream once; `abort` discards buffered output and fails the reader. */
  finish(outcome: StreamOutcome, abort: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (abort) {
      this.chunks.length = 0;
      this.failure = new Error(outcome.error);
    }
    this.mux.forget(this);
    this.resolveDone(outcome);
    this.remotePaused(false);
    this.wakeReader();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<OutputChunk> {
    for (;;) {
      if (this.failure) throw this.failure;
      const chunk = this.chunks.shift();
      if (chunk) {
        this.bufferedBytes -= chunk.data.byteLength;
        if (this.pausedAgent && this.bufferedBytes < RESUME_AT) this.flow(false);
        yield chunk;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private wakeReader(): void {
    this.wake?.();
    this.wake = undefined;
  }
}
