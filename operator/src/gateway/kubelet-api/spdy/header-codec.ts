// SPDY/3 header compression: each direction of a session compresses all of its header blocks as
// one zlib stream with the SPDY dictionary, sync-flushed after every block, so a block can only be
// (de)compressed after every earlier one of the same direction.
import zlib from 'node:zlib';
import { SPDY_DICTIONARY } from './dictionary.js';
import { SpdyProtocolError, decodeHeaderBlock, encodeHeaderBlock } from './frames.js';

/** A peer's header block never inflates beyond this (zlib would allow a decompression bomb). */
const MAX_INFLATED_BLOCK = 256 * 1024;

class ZlibContext {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly stream: zlib.Inflate | zlib.Deflate) {}

  /** Runs `block` through the stream and returns what it produced up to the sync flush. */
  process(block: Buffer, maxOutput = Infinity): Promise<Buffer> {
    const result = this.tail.then(() => this.flushThrough(block, maxOutput));
    this.tail = result.catch(() => undefined);
    return result;
  }

  close(): void {
    this.stream.close();
  }

  private flushThrough(block: Buffer, maxOutput: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxOutput) fail(new SpdyProtocolError(`a header block inflates beyond ${maxOutput} bytes`));
        else chunks.push(chunk);
      };
      const fail = (err: Error) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        this.stream.off('data', onData);
        this.stream.off('error', fail);
      };
      this.stream.on('data', onData);
      this.stream.once('error', fail);
      this.stream.write(block);
      // zlib emits everything the block produced before it calls back from the flush.
      this.stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        cleanup();
        if (size <= maxOutput) resolve(Buffer.concat(chunks));
      });
    });
  }
}

/** The two header compression contexts of one SPDY session. */
export class HeaderCodec {
  private readonly inflater = new ZlibContext(zlib.createInflate({ dictionary: SPDY_DICTIONARY }));
  private readonly deflater = new ZlibContext(zlib.createDeflate({ dictionary: SPDY_DICTIONARY }));

  async decode(compressed: Buffer): Promise<Map<string, string[]>> {
    let block: Buffer;
    try {
      block = await this.inflater.process(compressed, MAX_INFLATED_BLOCK);
    } catch (err) {
      throw err instanceof SpdyProtocolError ? err : new SpdyProtocolError(`undecodable header block: ${(err as Error).message}`);
    }
    return decodeHeaderBlock(block);
  }

  async encode(headers: ReadonlyMap<string, readonly string[]>): Promise<Buffer> {
    return this.deflater.process(encodeHeaderBlock(headers));
  }

  close(): void {
    this.inflater.close();
    this.deflater.close();
  }
}
