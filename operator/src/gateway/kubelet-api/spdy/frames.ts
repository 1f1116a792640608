// SPDY/3 framing: the subset a kubelet's streaming server needs. The kube-apiserver (and kubectl
// when it falls back from WebSockets) speaks SPDY/3.1 to kubelets through moby/spdystream, which
// frames SPDY/3 and implements no flow control: it never sends WINDOW_UPDATE and ignores ours.
//
//   control frame: |1| version:15 | type:16 | flags:8 | length:24 | payload
//   data frame:    |0| stream id:31         | flags:8 | length:24 | data
export const SPDY_VERSION = 3;
export const FLAG_FIN = 0x01;
/** The largest payload a frame's 24-bit length can describe. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export const ControlType = {
  synStream: 1,
  synReply: 2,
  rstStream: 3,
  settings: 4,
  ping: 6,
  goAway: 7,
  headers: 8,
  windowUpdate: 9,
} as const;

/** RST_STREAM status codes. */
export const RstStatus = { protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5 } as const;
/** GOAWAY status codes. */
export const GoAwayStatus = { ok: 0, protocolError: 1, internalError: 2 } as const;

export type Frame =
  | { kind: 'data'; streamId: number; fin: boolean; data: Buffer }
  | { kind: 'synStream'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: 'rstStream'; streamId: number; status: number }
  | { kind: 'ping'; id: number }
  | { kind: 'goAway'; lastGoodStreamId: number }
  /** Frames a server without flow control or server push may ignore (SETTINGS, WINDOW_UPDATE, ...). */
  | { kind: 'ignored'; type: number };

export class SpdyProtocolError extends Error {}

const STREAM_ID_MASK = 0x7fffffff;

/** Splits a byte stream into frames, holding an incomplete frame until the rest arrives. */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
  }

  /** The next complete frame, or undefined until more bytes arrive. */
  next(): Frame | undefined {
    if (this.pending.length < 8) return undefined;
    const length = this.pending.readUInt32BE(4) & MAX_FRAME_PAYLOAD;
    if (this.pending.length < 8 + length) return undefined;
    const frame = this.pending.subarray(0, 8 + length);
    this.pending = this.pending.subarray(8 + length);
    return decodeFrame(frame);
  }
}

function decodeFrame(frame: Buffer): Frame {
  const first = frame.readUInt32BE(0);
  const flags = frame[4]!;
  const payload = frame.subarray(8);
  if ((first & 0x80000000) === 0) {
    return { kind: 'data', streamId: first & STREAM_ID_MASK, fin: (flags & FLAG_FIN) !== 0, data: payload };
  }
  const version = (first >>> 16) & 0x7fff;
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
  const type = first & 0xffff;
  const need = (bytes: number) => {
    if (payload.length < bytes) throw new SpdyProtocolError(`control frame type ${type} is too short`);
  };
  switch (type) {
    case ControlType.synStream:
      need(10);
      return {
        kind: 'synStream',
        streamId: payload.readUInt32BE(0) & STREAM_ID_MASK,
        fin: (flags & FLAG_FIN) !== 0,
        headerBlock: payload.subarray(10),
      };
    case ControlType.rstStream:
      need(8);
      return { kind: 'rstStream', streamId: payload.readUInt32BE(0) & STREAM_ID_MASK, status: payload.readUInt32BE(4) };
    case ControlType.ping:
      need(4);
      return { kind: 'ping', id: payload.readUInt32BE(0) };
    case ControlType.goAway:
      need(4);
      return { kind: 'goAway', lastGoodStreamId: payload.readUInt32BE(0) & STREAM_ID_MASK };
    default:
      return { kind: 'ignored', type };
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  header.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([header, payload]);
}

function uint32s(...values: number[]): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeUInt32BE(v >>> 0, i * 4));
  return buf;
}

export function encodeData(streamId: number, data: Buffer, fin: boolean): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new RangeError('a SPDY data frame holds at most 16 MiB');
  return Buffer.concat([uint32s(streamId & STREAM_ID_MASK, ((fin ? FLAG_FIN : 0) << 24) | data.length), data]);
}

/** SYN_REPLY with an already compressed header block. */
export function encodeSynReply(streamId: number, headerBlock: Buffer): Buffer {
  return controlFrame(ControlType.synReply, 0, Buffer.concat([uint32s(streamId), headerBlock]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  return controlFrame(ControlType.rstStream, 0, uint32s(streamId, status));
}

export function encodePing(id: number): Buffer {
  return controlFrame(ControlType.ping, 0, uint32s(id));
}

export function encodeGoAway(lastGoodStreamId: number, status: number): Buffer {
  return controlFrame(ControlType.goAway, 0, uint32s(lastGoodStreamId, status));
}

/** Limits on a peer's header block: the kubelet protocol sends one or two short headers per stream. */
const MAX_HEADERS = 64;
const MAX_HEADER_FIELD = 8 * 1024;

/**
 * An uncompressed SPDY/3 name/value block: count, then (name length, name, value length, value)
 * with 32-bit lengths; several values of one name are joined by NUL.
 */
export function encodeHeaderBlock(headers: ReadonlyMap<string, readonly string[]>): Buffer {
  const parts = [uint32s(headers.size)];
  for (const [name, values] of headers) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(uint32s(n.length), n, uint32s(v.length), v);
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): Map<string, string[]> {
  let offset = 0;
  const read = (bytes: number): Buffer => {
    if (offset + bytes > block.length) throw new SpdyProtocolError('truncated header block');
    const out = block.subarray(offset, offset + bytes);
    offset += bytes;
    return out;
  };
  const readField = (): string => {
    const length = read(4).readUInt32BE(0);
    if (length > MAX_HEADER_FIELD) throw new SpdyProtocolError(`a header field of ${length} bytes is too long`);
    return read(length).toString('utf8');
  };
  const count = read(4).readUInt32BE(0);
  if (count > MAX_HEADERS) throw new SpdyProtocolError(`${count} headers are too many`);
  const headers = new Map<string, string[]>();
  for (let i = 0; i < count; i++) {
    const name = readField().toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), ...readField().split('\0')]);
  }
  return headers;
}
