import { StdioDemuxer, stdioChunks } from './stdio.js';

function frame(stream: number, text: string): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(Buffer.byteLength(text), 4);
  return Buffer.concat([header, Buffer.from(text)]);
}

async function* source(...chunks: Buffer[]) {
  yield* chunks;
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('Docker stdio frames', () => {
  it('reassembles frames cut anywhere, headers included', () => {
    const bytes = Buffer.concat([frame(1, 'hello\n'), frame(2, 'oops\n'), frame(1, '')]);
    const demuxer = new StdioDemuxer();
    const chunks = [bytes.subarray(0, 3), bytes.subarray(3, 10), bytes.subarray(10, 17), bytes.subarray(17)].flatMap((c) => demuxer.push(c));
    expect(chunks.map((c) => [c.channel, c.data.toString()])).toEqual([
      [1, 'hello\n'],
      [2, 'oops\n'],
      [1, ''],
    ]);
  });

  it('passes terminal output through as stdout', async () => {
    const chunks = await all(stdioChunks(source(Buffer.from('\x1b[1mraw')), true));
    expect(chunks).toEqual([{ channel: 1, data: Buffer.from('\x1b[1mraw') }]);
  });

  it('demultiplexes a stream', async () => {
    const chunks = await all(stdioChunks(source(frame(2, 'e'), frame(1, 'o')), false));
    expect(chunks.map((c) => c.channel)).toEqual([2, 1]);
  });
});
