import { Duplex, PassThrough } from 'node:stream';
import { FrameParser, encodeData, encodePing, type Frame } from './frames.js';
import { SpdySession, type SpdyStream } from './session.js';

// A SYN_STREAM for stream 1 {streamtype: error}, as github.com/moby/spdystream writes it.
const GO_SYN_STREAM_1 = Buffer.from(
  '80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff',
  'hex',
);

function connection() {
  const fromClient = new PassThrough();
  const toClient = new PassThrough();
  const socket = Duplex.from({ readable: fromClient, writable: toClient });
  const received: Frame[] = [];
  const parser = new FrameParser();
  toClient.on('data', (chunk: Buffer) => {
    parser.push(chunk);
    for (let frame = parser.next(); frame; frame = parser.next()) received.push(frame);
  });
  return { socket, fromClient, received };
}

/** Waits for the session's asynchronous work (zlib runs off the main thread). */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

test('a stream is accepted with SYN_REPLY, carries data both ways, and pings are echoed', async () => {
  const { socket, fromClient, received } = connection();
  const streams: SpdyStream[] = [];
  const session = new SpdySession(socket, { maxStreams: 1, onStream: (s) => streams.push(s) });
  const over = session.run();
  fromClient.write(GO_SYN_STREAM_1);
  fromClient.write(encodeData(1, Buffer.from('from client'), true));
  fromClient.write(encodePing(1));
  await until(() => streams.length > 0);
  expect(streams.map((s) => s.header('streamType'))).toEqual(['error']);
  const stream = streams[0]!;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  await until(() => stream.readableEnded);
  expect(text).toBe('from client');
  stream.end('from server');
  await until(() => received.length >= 4);
  expect(received.map((f) => f.kind)).toEqual(['ignored', 'ping', 'data', 'data']);
  expect(received[0]).toEqual({ kind: 'ignored', type: 2 }); // SYN_REPLY
  expect(received.slice(2)).toEqual([
    { kind: 'data', streamId: 1, fin: false, data: Buffer.from('from server') },
    { kind: 'data', streamId: 1, fin: true, data: Buffer.alloc(0) },
  ]);
  // Closed both ways, the stream is gone: GOAWAY has nothing left to reset.
  session.goAway();
  fromClient.end();
  expect(await over).toBeUndefined();
  expect(received.at(-1)).toEqual({ kind: 'goAway', lastGoodStreamId: 1 });
});

test('a frame of another SPDY version is a protocol error that ends the session with GOAWAY', async () => {
  const { socket, fromClient, received } = connection();
  const session = new SpdySession(socket, { maxStreams: 5, onStream: () => undefined });
  const over = session.run();
  fromClient.write(GO_SYN_STREAM_1);
  fromClient.write(Buffer.from('800200040000000400000000', 'hex'));
  expect((await over)?.message).toBe('unsupported SPDY version 2');
  await until(() => received.at(-1)?.kind === 'goAway');
  expect(received.at(-1)).toEqual({ kind: 'goAway', lastGoodStreamId: 1 });
});

test('an undecodable header block is a protocol error', async () => {
  const { socket, fromClient } = connection();
  const session = new SpdySession(socket, { maxStreams: 5, onStream: () => undefined });
  const over = session.run();
  const corrupt = Buffer.from(GO_SYN_STREAM_1);
  corrupt.fill(0xff, 18, 30);
  fromClient.write(corrupt);
  expect((await over)?.message).toMatch(/^undecodable header block/);
});
