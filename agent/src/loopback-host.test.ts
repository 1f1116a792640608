import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost, refusedNonLoopback } from './loopback-host.js';

test('loopback names, with or without a port, are loopback; any other name is not', () => {
  for (const host of ['127.0.0.1', '127.0.0.1:15001', 'localhost:8080', 'LOCALHOST', '[::1]:9000']) expect([host, isLoopbackHost(host)]).toEqual([host, true]);
  for (const host of [undefined, '', 'evil.example', 'evil.example:15001', '127.0.0.1.evil.example', 'localhost.evil.example:80', '10.0.0.1']) {
    expect([host, isLoopbackHost(host)]).toEqual([host, false]);
  }
});

test('a request under a rebound name gets 421 and nothing else', async () => {
  const server = http.createServer((req, res) => {
    if (!refusedNonLoopback(req, res)) res.end('secret');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const get = (host: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port, headers: { host } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
  try {
    expect(await get(`127.0.0.1:${port}`)).toEqual({ status: 200, body: 'secret' });
    expect(await get(`rebound.example:${port}`)).toMatchObject({ status: 421, body: expect.not.stringContaining('secret') });
  } finally {
    server.close();
  }
});
