// Docker's stdout/stderr streams. Without a TTY, logs and exec output are multiplexed in frames:
// one byte for the stream (1 stdout, 2 stderr), three zero bytes, a big-endian uint32 length,
// then that many bytes. With a TTY the stream is raw terminal output, all of it stdout.

export interface StdioChunk {
  /** 1 stdout, 2 stderr, as in the protocol's StreamData. */
  channel: 1 | 2;
  data: Buffer;
}

const HEADER_BYTES = 8;

/** Reassembles frames that arrive cut at arbitrary points. */
export class StdioDemuxer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): StdioChunk[] {
    let pending = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    const frames: StdioChunk[] = [];
    while (pending.length >= HEADER_BYTES) {
      const size = pending.readUInt32BE(4);
      if (pending.length < HEADER_BYTES + size) break;
      frames.push({ channel: pending[0] === 2 ? 2 : 1, data: pending.subarray(HEADER_BYTES, HEADER_BYTES + size) });
      pending = pending.subarray(HEADER_BYTES + size);
    }
    this.pending = pending;
    return frames;
  }
}

/** The chunks of a Docker output stream. */
export async function* stdioChunks(stream: AsyncIterable<Buffer | string>, tty: boolean): AsyncGenerator<StdioChunk> {
  const demuxer = new StdioDemuxer();
  for await (const raw of stream) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
    if (tty) {
      yield { channel: 1, data: chunk };
    } else {
      yield* demuxer.push(chunk);
    }
  }
}
