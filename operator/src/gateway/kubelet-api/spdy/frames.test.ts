import { createHash } from 'node:crypto';
import { SPDY_DICTIONARY } from './dictionary.js';
import {
  FrameParser,
  SpdyProtocolError,
  decodeHeaderBlock,
  encodeData,
  encodeGoAway,
  encodeHeaderBlock,
  encodePing,
  encodeRstStream,
  encodeSynReply,
  type Frame,
} from './frames.js';
import { HeaderCodec } from './header-codec.js';

// Two SYN_STREAM frames as github.com/moby/spdystream (v0.5.1, the kube-apiserver's SPDY) writes
// them on one connection: stream 1 {streamtype: error}, then stream 3 {streamtype: stdout}.
const GO_SYN_STREAM_1 = Buffer.from(
  '80030001000000290000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff',
  'hex',
);
const GO_SYN_STREAM_3 = Buffer.from('800300010000001900000003000000000000c22ac5565c92925f5a02000000ffff', 'hex');

test('the dictionary is the SPDY/3 one, byte for byte', () => {
  expect(SPDY_DICTIONARY.length).toBe(1423);
  expect(createHash('sha256').update(SPDY_DICTIONARY).digest('hex')).toBe('51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02');
});

/** Every complete frame in `chunks`, fed one chunk at a time. */
function parse(...chunks: Buffer[]): Frame[] {
  const parser = new FrameParser();
  const frames: Frame[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    for (let frame = parser.next(); frame; frame = parser.next()) frames.push(frame);
  }
  return frames;
}

test('frames split across and within chunks are parsed once complete', () => {
  const bytes = Buffer.concat([GO_SYN_STREAM_1, encodeData(1, Buffer.from('hi'), true), encodePing(7)]);
  const frames = parse(bytes.subarray(0, 5), bytes.subarray(5, 60), bytes.subarray(60));
  expect(frames.map((f) => f.kind)).toEqual(['synStream', 'data', 'ping']);
  expect(frames[0]).toMatchObject({ kind: 'synStream', streamId: 1, fin: false });
  expect(frames[1]).toEqual({ kind: 'data', streamId: 1, fin: true, data: Buffer.from('hi') });
  expect(frames[2]).toEqual({ kind: 'ping', id: 7 });
});

test('control frames we write have the SPDY/3 layout', () => {
  expect(encodeRstStream(3, 5).toString('hex')).toBe('80030003000000080000000300000005');
  expect(encodeGoAway(5, 0).toString('hex')).toBe('80030007000000080000000500000000');
  expect(encodeSynReply(1, Buffer.from('ab')).toString('hex')).toBe('8003000200000006000000016162');
  const parsed = parse(Buffer.concat([encodeRstStream(3, 5), encodeGoAway(5, 0)]));
  expect(parsed).toEqual([
    { kind: 'rstStream', streamId: 3, status: 5 },
    { kind: 'goAway', lastGoodStreamId: 5 },
  ]);
});

test('SETTINGS and WINDOW_UPDATE are ignored; another SPDY version is a protocol error', () => {
  const settings = Buffer.from('800300040000000400000000', 'hex');
  expect(parse(settings)).toEqual([{ kind: 'ignored', type: 4 }]);
  expect(() => parse(Buffer.from('800200040000000400000000', 'hex'))).toThrow(SpdyProtocolError);
});

test('header blocks round-trip, with lower-cased names and NUL-joined values', () => {
  const block = encodeHeaderBlock(new Map([['StreamType', ['stdout']], ['x', ['a', 'b']]]));
  expect(decodeHeaderBlock(block)).toEqual(new Map([['streamtype', ['stdout']], ['x', ['a', 'b']]]));
  expect(() => decodeHeaderBlock(block.subarray(0, block.length - 1))).toThrow(/truncated/);
});

test('header blocks compressed by spdystream decode in sequence on one zlib context', async () => {
  const codec = new HeaderCodec();
  const [first, second] = parse(GO_SYN_STREAM_1, GO_SYN_STREAM_3);
  if (first?.kind !== 'synStream' || second?.kind !== 'synStream') throw new Error('expected SYN_STREAM frames');
  expect(await codec.decode(first.headerBlock)).toEqual(new Map([['streamtype', ['error']]]));
  expect(await codec.decode(second.headerBlock)).toEqual(new Map([['streamtype', ['stdout']]]));
  codec.close();
});

test('what we compress, a peer context decompresses (both directions share the scheme)', async () => {
  const ours = new HeaderCodec();
  const peer = new HeaderCodec();
  for (const headers of [new Map([['a', ['1']]]), new Map<string, string[]>(), new Map([['b', ['2', '3']]])]) {
    expect(await peer.decode(await ours.encode(headers))).toEqual(headers);
  }
  ours.close();
  peer.close();
});
