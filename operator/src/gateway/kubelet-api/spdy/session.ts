// The server side of a SPDY/3 session on an upgraded connection: the client opens streams
// (SYN_STREAM, headers naming the stream's role), the server accepts each (SYN_REPLY) and both
// sides exchange data until FIN. There is no flow control to honour (see frames.ts), so
// backpressure is TCP's: while a stream's reader is behind, the session stops reading the socket.
import { Duplex } from 'node:stream';
import {
  FrameParser,
  GoAwayStatus,
  RstStatus,
  SpdyProtocolError,
  encodeData,
  encodeGoAway,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  type Frame,
} from './frames.js';
import { writeWithBackpressure } from '../backpressure.js';
import { endThenDestroy } from '../socket-close.js';
import { HeaderCodec } from './header-codec.js';

/** Data frames we write carry at most this much, so one stream cannot hog the connection. */
const WRITE_CHUNK = 32 * 1024;

export interface SpdySessionOptions {
  /** Streams the client may open; more are refused (the kubelet protocols need five at most). */
  maxStreams: number;
  onStream: (stream: SpdyStream) => void;
}

/** One SPDY stream: readable is what the client sends, writable is what we send it. */
export class SpdyStream extends Duplex {
  private readWanted: (() => void) | undefined;
  private finSent = false;

  constructor(
    readonly id: number,
    readonly headers: ReadonlyMap<string, readonly string[]>,
    private readonly session: SpdySession,
  ) {
    super({ allowHalfOpen: true });
  }

  header(name: string): string | undefined {
    return this.headers.get(name.toLowerCase())?.[0];
  }

  /** @internal Delivers client data; resolves when the reader wants more. */
  async receive(data: Buffer): Promise<void> {
    if (this.destroyed || this.readableEnded) return;
    if (!this.push(data)) await new Promise<void>((resolve) => (this.readWanted = resolve));
  }

  /** @internal The client sent FIN, or the session ended. */
  endReadable(): void {
    if (!this.destroyed) this.push(null);
  }

  override _read(): void {
    this.readWanted?.();
    this.readWanted = undefined;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.session.sendData(this.id, chunk, false).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finSent = true;
    this.session.sendData(this.id, Buffer.alloc(0), true).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    this._read();
    if (error && !this.finSent) this.session.reset(this.id, RstStatus.cancel);
    this.session.forget(this.id);
    callback(error);
  }
}

export class SpdySession {
  private readonly streams = new Map<number, SpdyStream>();
  private readonly codec = new HeaderCodec();
  private readonly parser = new FrameParser();
  private lastStreamId = 0;
  private opened = 0;
  private goneAway = false;

  constructor(
    private readonly socket: Duplex,
    private readonly options: SpdySessionOptions,
  ) {}

  /**
   * Reads frames until the client closes the connection or sends GOAWAY. Resolves with what broke
   * the session, if something did (a protocol error, a reset connection); it never rejects.
   */
  async run(): Promise<Error | undefined> {
    try {
      // Not destroyed on the way out: a protocol error is still answered with GOAWAY.
      for await (const chunk of this.socket.iterator({ destroyOnReturn: false })) {
        this.parser.push(chunk as Buffer);
        for (let frame = this.parser.next(); frame; frame = this.parser.next()) {
          if (!(await this.handle(frame))) return undefined;
        }
      }
      return undefined;
    } catch (err) {
      if (err instanceof SpdyProtocolError) this.goAway(GoAwayStatus.protocolError);
      else this.socket.destroy();
      return err instanceof Error ? err : new Error(String(err));
    } finally {
      for (const stream of this.streams.values()) stream.endReadable();
      this.codec.close();
    }
  }

  /**
   * Ends the session as the kubelet does: every stream reset, GOAWAY, our side closed. With no
   * stream left to wait for, the peer's spdystream closes the connection at once.
   */
  goAway(status: number = GoAwayStatus.ok): void {
    if (this.goneAway) return;
    this.goneAway = true;
    if (!this.socket.writable) return;
    for (const id of this.streams.keys()) this.socket.write(encodeRstStream(id, RstStatus.cancel));
    endThenDestroy(this.socket, encodeGoAway(this.lastStreamId, status));
  }

  /** @internal */
  async sendData(streamId: number, data: Buffer, fin: boolean): Promise<void> {
    for (let offset = 0; offset < data.length || (fin && offset === 0); offset += WRITE_CHUNK) {
      const part = data.subarray(offset, offset + WRITE_CHUNK);
      const last = offset + WRITE_CHUNK >= data.length;
      await this.write(encodeData(streamId, part, fin && last));
    }
  }

  /** @internal */
  reset(streamId: number, status: number): void {
    // Best effort: if the connection is gone, so is the stream.
    this.write(encodeRstStream(streamId, status)).catch(() => undefined);
  }

  /** @internal */
  forget(streamId: number): void {
    this.streams.delete(streamId);
  }

  /** Handles one frame; false when the session is over. */
  private async handle(frame: Frame): Promise<boolean> {
    switch (frame.kind) {
      case 'synStream':
        await this.accept(frame.streamId, frame.headerBlock, frame.fin);
        return true;
      case 'data': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return true; // already reset or closed: late data is harmless
        if (frame.data.length) await stream.receive(frame.data);
        if (frame.fin) stream.endReadable();
        return true;
      }
      case 'rstStream':
        this.streams.get(frame.streamId)?.destroy();
        return true;
      case 'ping':
        // Client-initiated pings have odd ids; we send none of our own to be answered.
        if (frame.id % 2 === 1) await this.write(encodePing(frame.id));
        return true;
      case 'goAway':
        return false;
      case 'ignored':
        return true;
    }
  }

  private async accept(streamId: number, headerBlock: Buffer, fin: boolean): Promise<void> {
    // The header block must be inflated even for a stream we refuse: the zlib context is shared.
    const headers = await this.codec.decode(headerBlock);
    if (streamId % 2 === 0 || streamId <= this.lastStreamId) {
      throw new SpdyProtocolError(`stream id ${streamId} is not a new client stream id`);
    }
    this.lastStreamId = streamId;
    if (this.goneAway || this.opened >= this.options.maxStreams) {
      this.reset(streamId, RstStatus.refusedStream);
      return;
    }
    this.opened++;
    const stream = new SpdyStream(streamId, headers, this);
    this.streams.set(streamId, stream);
    await this.write(encodeSynReply(streamId, await this.codec.encode(new Map())));
    if (fin) stream.endReadable();
    this.options.onStream(stream);
  }

  private async write(frame: Buffer): Promise<void> {
    if (!this.socket.writable) throw new Error('the SPDY connection is closed');
    await writeWithBackpressure(this.socket, frame);
  }
}
