import { jest } from '@jest/globals';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { ClientLimits, RequestRates } from './client-limits.js';

/** A real server on loopback whose connections pass through the limits; open ones are kept. */
async function serve(limits: ClientLimits) {
  const accepted: net.Socket[] = [];
  const server = net.createServer((socket) => {
    if (limits.admit(socket)) accepted.push(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, accepted, port: (server.address() as AddressInfo).port };
}

/** Until the server has seen `n` connections (admitted or refused). */
async function seen(n: () => number, want: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (n() < want) {
    if (Date.now() > deadline) throw new Error(`the server saw ${n()} connections, not ${want}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Connects from `localAddress`; resolves with whether the server kept the connection open. */
async function connect(port: number, localAddress: string): Promise<{ socket: net.Socket; kept: Promise<boolean> }> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  await once(socket, 'connect');
  // The server closes a refused connection at once; a kept one answers a byte's round trip.
  const kept = new Promise<boolean>((resolve) => {
    socket.once('close', () => resolve(false));
    socket.once('data', () => resolve(true));
  });
  return { socket, kept };
}

describe('the ingress connection caps', () => {
  test('one client address gets at most its cap; another address is still served, and a closed connection frees a place', async () => {
    const refusals: string[] = [];
    const limits = new ClientLimits({ perClient: 3, total: 100 }, (reason) => refusals.push(reason));
    const { server, accepted, port } = await serve(limits);
    const echo = () => accepted.forEach((s) => s.write('k'));
    try {
      const greedy: Awaited<ReturnType<typeof connect>>[] = [];
      for (let i = 0; i < 4; i++) {
        greedy.push(await connect(port, '127.0.0.2'));
        await seen(() => accepted.length + refusals.length, i + 1);
      }
      const other = await connect(port, '127.0.0.3');
      await seen(() => accepted.length + refusals.length, 5);
      echo();
      expect(await Promise.all(greedy.map((c) => c.kept))).toEqual([true, true, true, false]);
      expect(await other.kept).toBe(true);
      expect(refusals).toEqual(['client-connections']);

      greedy[0]!.socket.destroy();
      await once(accepted[0]!, 'close');
      const again = await connect(port, '127.0.0.2');
      await seen(() => accepted.length, 5);
      accepted.at(-1)!.write('k');
      expect(await again.kept).toBe(true);
      for (const c of [...greedy, other, again]) c.socket.destroy();
    } finally {
      server.close();
      accepted.forEach((s) => s.destroy());
    }
  });

  test('the total cap holds whatever the addresses', async () => {
    const refusals: string[] = [];
    const limits = new ClientLimits({ perClient: 0, total: 2 }, (reason) => refusals.push(reason));
    const { server, accepted, port } = await serve(limits);
    try {
      const clients: Awaited<ReturnType<typeof connect>>[] = [];
      for (const [i, address] of ['127.0.0.2', '127.0.0.3', '127.0.0.4'].entries()) {
        clients.push(await connect(port, address));
        await seen(() => accepted.length + refusals.length, i + 1);
      }
      accepted.forEach((s) => s.write('k'));
      expect(await Promise.all(clients.map((c) => c.kept))).toEqual([true, true, false]);
      expect(refusals).toEqual(['total-connections']);
      clients.forEach((c) => c.socket.destroy());
    } finally {
      server.close();
      accepted.forEach((s) => s.destroy());
    }
  });
});

describe('the ingress request rates', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('a client gets its burst at once, then its rate; another client is not held back by it', () => {
    const rates = new RequestRates({ perSecond: 10, burst: 20 });
    const admitted = (address: string, n: number) => Array.from({ length: n }, () => rates.admit(address)).filter(Boolean).length;
    expect(admitted('192.0.2.1', 25)).toBe(20);
    expect(admitted('192.0.2.2', 5)).toBe(5);
    jest.advanceTimersByTime(500);
    expect(admitted('192.0.2.1', 10)).toBe(5);
    rates.close();
  });

  test('0 requests a second is no cap', () => {
    const rates = new RequestRates({ perSecond: 0, burst: 0 });
    expect(Array.from({ length: 10_000 }, () => rates.admit('192.0.2.1')).every(Boolean)).toBe(true);
    rates.close();
  });
});
