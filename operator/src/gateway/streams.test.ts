import { GatewayMessageSchema, type GatewayMessage } from '@lattice/protocol';
import { StreamMux, type StreamObserver } from './streams.js';

const logs = { follow: false, tailLines: null, sinceSeconds: null, sinceTime: '', timestamps: false, previous: false, limitBytes: null };

function setup(options: { accept?: () => boolean; maxBufferedBytes?: number } = {}) {
  const sent: GatewayMessage[] = [];
  const counts = { opened: 0, closed: 0, dropped: [] as string[], bytes: { toAgent: 0, fromAgent: 0 } };
  const observer: StreamObserver = {
    opened: () => counts.opened++,
    closed: () => counts.closed++,
    dropped: (reason) => counts.dropped.push(reason),
    relayed: (direction, n) => (counts.bytes[direction] += n),
  };
  const mux = new StreamMux({
    send: (msg) => {
      sent.push(GatewayMessageSchema.parse(msg));
      return options.accept?.() ?? true;
    },
    observer,
    ...(options.maxBufferedBytes ? { maxBufferedBytes: options.maxBufferedBytes } : {}),
  });
  return { mux, sent, counts };
}

const data = (streamId: string, channel: number, text: string) =>
  ({ msg: 'streamData', streamData: { streamId, channel, data: Buffer.from(text) } }) as const;
const end = (streamId: string, exitCode?: number, error = '') =>
  ({ msg: 'streamEnd', streamEnd: { streamId, error, exitCode: exitCode ?? null } }) as const;

async function collect(stream: AsyncIterable<{ channel: number; data: Buffer }>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of stream) out.push(`${chunk.channel}:${chunk.data.toString()}`);
  return out;
}

test('open sends a valid OpenStream and output arrives in order until StreamEnd', async () => {
  const { mux, sent, counts } = setup();
  const stream = mux.open({ podUid: 'uid-1', container: 'app', kind: 'logs', logs });
  expect(sent[0]).toMatchObject({ msg: 'openStream', openStream: { streamId: stream.id, podUid: 'uid-1', container: 'app', kind: 'logs' } });
  mux.handle(data(stream.id, 1, 'a'));
  mux.handle(data(stream.id, 2, 'b'));
  mux.handle(end(stream.id, 0));
  expect(await collect(stream)).toEqual(['1:a', '2:b']);
  expect(await stream.done).toEqual({ exitCode: 0 });
  expect(counts).toMatchObject({ opened: 1, closed: 1, bytes: { fromAgent: 2 } });
  expect(mux.openStreams).toBe(0);
});

test('messages for streams the gateway did not open, or on stdin, are dropped and counted', async () => {
  const { mux, counts } = setup();
  const stream = mux.open({ podUid: 'uid-1', container: 'app', kind: 'logs', logs });
  mux.handle(data('forged-id', 1, 'injected'));
  mux.handle(end('forged-id', 0));
  mux.handle(data(stream.id, 0, 'not output'));
  mux.handle(end(stream.id));
  expect(await collect(stream)).toEqual([]);
  expect(counts.dropped).toEqual(['unknownStream', 'unknownStream', 'badChannel']);
});

test('the agent error and exit code are the outcome', async () => {
  const { mux } = setup();
  const stream = mux.open({ podUid: 'u', container: 'c', kind: 'exec', exec: { command: ['false'], stdin: false, stdout: true, stderr: true, tty: false } });
  mux.handle(end(stream.id, 1, 'container not running'));
  expect(await stream.done).toEqual({ exitCode: 1, error: 'container not running' });
});

test('close tells the agent, ends the output, and late data is dropped', async () => {
  const { mux, sent, counts } = setup();
  const stream = mux.open({ podUid: 'u', container: 'c', kind: 'logs', logs: { ...logs, follow: true } });
  stream.close('the client went away');
  expect(sent.at(-1)).toEqual({ msg: 'streamEnd', streamEnd: { streamId: stream.id, error: '' } });
  expect(await collect(stream)).toEqual([]);
  expect(await stream.done).toEqual({ error: 'the client went away' });
  mux.handle(data(stream.id, 1, 'late'));
  expect(counts.dropped).toEqual(['unknownStream']);
});

test('closeAll ends every stream with the reason and refuses new ones', async () => {
  const { mux } = setup();
  const a = mux.open({ podUid: 'u', container: 'c', kind: 'logs', logs });
  const b = mux.open({ podUid: 'u', container: 'd', kind: 'logs', logs });
  mux.closeAll('connection reset');
  expect(await a.done).toEqual({ error: "the node's agent disconnected: connection reset" });
  expect((await b.done).error).toContain('connection reset');
  expect(() => mux.open({ podUid: 'u', container: 'c', kind: 'logs', logs })).toThrow(/connection reset/);
});

test('a reader that falls too far behind loses its stream with an error', async () => {
  const { mux, sent } = setup({ maxBufferedBytes: 10 });
  const stream = mux.open({ podUid: 'u', container: 'c', kind: 'logs', logs });
  mux.handle(data(stream.id, 1, '123456'));
  mux.handle(data(stream.id, 1, '789012'));
  await expect(collect(stream)).rejects.toThrow(/more than 10 bytes behind/);
  expect(sent.at(-1)).toEqual({ msg: 'streamEnd', streamEnd: { streamId: stream.id, error: '' } });
});

test('stdin waits while the agent connection is congested, and EOF is an empty chunk', async () => {
  let room = false;
  const { mux, sent } = setup({ accept: () => room });
  const stream = mux.open({ podUid: 'u', container: 'c', kind: 'exec', exec: { command: ['cat'], stdin: true, stdout: true, stderr: false, tty: false } });
  let written = false;
  const write = stream.write(Buffer.from('hello')).then(() => (written = true));
  await new Promise((resolve) => setImmediate(resolve));
  expect(written).toBe(false);
  room = true;
  mux.drained();
  await write;
  await stream.endStdin();
  stream.resize(80, 24);
  expect(sent.slice(1)).toEqual([
    { msg: 'streamData', streamData: { streamId: stream.id, channel: 0, data: Buffer.from('hello') } },
    { msg: 'streamData', streamData: { streamId: stream.id, channel: 0, data: Buffer.alloc(0) } },
    { msg: 'streamResize', streamResize: { streamId: stream.id, width: 80, height: 24 } },
  ]);
});
