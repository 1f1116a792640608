import { once } from 'node:events';
import type { GatewayMessage } from '@lattice/protocol';
import { StreamMux } from '../streams.js';
import { TunnelSocket } from './tunnel.js';

function setup() {
  const sent: GatewayMessage[] = [];
  const mux = new StreamMux({ send: (msg) => (sent.push(msg), true) });
  const tunnel = new TunnelSocket(mux.open({ kind: 'dial', podUid: 'uid-1', container: '', dial: { port: 8080 } }));
  const open = sent[0]!;
  if (open.msg !== 'openStream') throw new Error('no openStream sent');
  const id = open.openStream.streamId;
  const fromPod = (data: string) => mux.handle({ msg: 'streamData', streamData: { streamId: id, channel: 1, data: Buffer.from(data) } });
  return { sent, mux, tunnel, id, open: open.openStream, fromPod };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('opens a dial stream to the pod port and carries bytes both ways, with half-close', async () => {
  const { sent, tunnel, open, fromPod } = setup();
  expect(open).toMatchObject({ kind: 'dial', podUid: 'uid-1', dial: { port: 8080 } });
  tunnel.write('ping');
  tunnel.end();
  await once(tunnel, 'finish');
  const toPod = sent.filter((m) => m.msg === 'streamData').map((m) => (m.msg === 'streamData' ? [m.streamData.channel, Buffer.from(m.streamData.data).toString()] : []));
  expect(toPod).toEqual([
    [0, 'ping'],
    [0, ''], // the client's end: the pod sees EOF
  ]);
  const received: string[] = [];
  tunnel.on('data', (d: Buffer) => received.push(d.toString()));
  fromPod('pong');
  fromPod(''); // the pod's end
  await once(tunnel, 'end');
  expect(received).toEqual(['pong']);
});

test('pauses the agent once a megabyte is unread, and resumes it when the reader caught up', async () => {
  const { sent, tunnel, fromPod } = setup();
  const flows = () => sent.filter((m) => m.msg === 'streamFlow').map((m) => (m.msg === 'streamFlow' ? m.streamFlow.paused : undefined));
  // A reader that keeps up costs no flow message.
  tunnel.resume();
  for (let i = 0; i < 8; i++) fromPod('x'.repeat(64 * 1024));
  for (let i = 0; i < 10; i++) await tick();
  expect(flows()).toEqual([]);
  // Nobody reads: past 1 MiB unread, the agent is asked to pause, once.
  tunnel.pause();
  for (let i = 0; i < 24; i++) fromPod('x'.repeat(64 * 1024));
  for (let i = 0; i < 10; i++) await tick();
  expect(flows()).toEqual([true]);
  tunnel.resume();
  for (let i = 0; i < 40; i++) await tick();
  expect(flows()).toEqual([true, false]);
});

test("writes wait while the agent paused the stream", async () => {
  const { sent, mux, tunnel, id } = setup();
  mux.handle({ msg: 'streamFlow', streamFlow: { streamId: id, paused: true } });
  let written = false;
  tunnel.write('held', () => (written = true));
  await tick();
  expect(written).toBe(false);
  expect(sent.some((m) => m.msg === 'streamData')).toBe(false);
  mux.handle({ msg: 'streamFlow', streamFlow: { streamId: id, paused: false } });
  await tick();
  await tick();
  expect(written).toBe(true);
});

test("the agent's error ends the tunnel with it", async () => {
  const { mux, tunnel, id } = setup();
  mux.handle({ msg: 'streamEnd', streamEnd: { streamId: id, error: 'connection refused by the pod (nothing listens on the port)' } });
  const [err] = (await once(tunnel, 'error')) as [Error];
  expect(err.message).toContain('connection refused');
});

test('accepts a stream the agent opened (a Service connection) once', () => {
  const { mux } = setup();
  expect(mux.accept('from-agent')).toBeDefined();
  expect(mux.accept('from-agent')).toBeUndefined();
});
