import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { installProblems } from '../kube/install-problems.js';
import { registryFailure, registryProblem, watchRegistry } from './registry-check.js';

/** A local HTTP server answering each request with `status()`; its URL. */
async function answering(status: number | (() => number)): Promise<{ url: URL; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(typeof status === 'number' ? status : status()).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), server };
}

/** A URL where nothing listens: a port that was free a moment ago. */
async function nothingListening(): Promise<URL> {
  const { url, server } = await answering(200);
  await new Promise((resolve) => server.close(resolve));
  return url;
}

const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

describe('registryFailure', () => {
  test('a registry answers /v2/ with 200, or 401 when it asks for credentials', async () => {
    for (const status of [200, 401]) {
      const { url, server } = await answering(status);
      servers.push(server);
      expect(await registryFailure(url)).toBeUndefined();
    }
  });

  test('another answer, or none, is the failure', async () => {
    const { url, server } = await answering(404);
    servers.push(server);
    expect(await registryFailure(url)).toBe("HTTP 404 at /v2/, not a registry's answer");
    expect(await registryFailure(await nothingListening())).toBe('ECONNREFUSED');
  });
});

describe('registryProblem', () => {
  test("in a pod, the loopback default is named as the pod's own, with the variable to set", () => {
    expect(registryProblem(new URL('http://127.0.0.1:5001'), 'ECONNREFUSED', true)).toEqual({
      reason: 'RegistryUnreachable',
      message:
        "the gateway cannot reach the cluster's registry at http://127.0.0.1:5001/v2/ (ECONNREFUSED): providers cannot pull builds nor Lattice's images; 127.0.0.1:5001 is the operator pod's own loopback: set LATTICE_REGISTRY to the cluster's registry (README: Install on your cluster)",
    });
  });

  test('elsewhere, the address the operator dials is what to set', () => {
    expect(registryProblem(new URL('http://registry.example.net:5000'), 'ENOTFOUND', true).message).toMatch(/\(ENOTFOUND\).*set LATTICE_REGISTRY_URL to where the operator reaches the registry/);
    expect(registryProblem(new URL('http://127.0.0.1:5001'), 'ECONNREFUSED', false).message).toContain('set LATTICE_REGISTRY_URL');
  });
});

describe('watchRegistry', () => {
  const log = pino({ level: 'silent' });

  test('a registry that never answers is an install problem, once, after the attempts', async () => {
    const url = await nothingListening();
    const check = watchRegistry(url, { inPod: true, attempts: 2, intervalMs: 10 }, log);
    await check.done;
    expect(installProblems.list().filter((p) => p.message.includes(url.host))).toEqual([registryProblem(url, 'ECONNREFUSED', true)]);
  });

  test('a registry that answers is no problem', async () => {
    const { url, server } = await answering(200);
    servers.push(server);
    await watchRegistry(url, { inPod: true, attempts: 1 }, log).done;
    expect(installProblems.list().filter((p) => p.message.includes(url.host))).toEqual([]);
  });

  test('a registry that answers as one by a later attempt is no problem', async () => {
    let requests = 0;
    const { url, server } = await answering(() => (++requests === 1 ? 503 : 200));
    servers.push(server);
    await watchRegistry(url, { inPod: false, attempts: 3, intervalMs: 10 }, log).done;
    expect([requests, installProblems.list().filter((p) => p.message.includes(url.host))]).toEqual([2, []]);
  });
});
