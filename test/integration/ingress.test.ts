// Public URLs and public TCP ports, end to end: the real operator (controllers, gateway and its
// ingress on loopback, flags as a user sets them), a real provider agent running the replicas in
// the Docker engine of a machine of its own behind NAT (hack/machines), which dials the gateway at
// the cluster's public address, and clients as a user has them: HTTPS (HTTP/1.1 and HTTP/2) verified against Lattice's
// CA, a WebSocket client (the `ws` package), and `psql` through a public PostgreSQL port. Nothing
// reaches a container but through the agent's tunnel: the provider opens no port.
//
// Public host names are <workload>--<namespace>.<base domain>; the clients resolve every name to
// 127.0.0.1 (a custom lookup), as a wildcard DNS record would.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import net, { type LookupFunction } from 'node:net';
import http2 from 'node:http2';
import https from 'node:https';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { adminKubeConfig, binDir, kubeconfigPath, kubectl, stateDir, secretData, uniqueName, waitFor } from '../support/cluster.js';
import { PUBLIC_ADDRESS, createMachine, ensureInternet, removeAllMachines } from '../support/machines.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { joinedAgent, runAgent, stopAgent, REGISTRY, type AgentProcess, removeSuiteLeftovers } from '../support/providers.js';
import { condition, workloadReader } from '../support/workloads.js';

const run = promisify(execFile);
const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);

const namespace = uniqueName('ingress');
const gatewayNamespace = `${namespace}-gw`;
const BASE_DOMAIN = 'lattice.localhost';
const RUN_LABEL = 'provider.lattice.dev/ingress-run';
const NODE_IMAGE = `${REGISTRY}/lattice/node:18`;
const { getWorkload, waitForStatus } = workloadReader(kc, namespace, { timeoutMs: 120_000, intervalMs: 500 });

const agent: AgentProcess = { name: `${namespace}-p`, stateDir: '', output: [] };
let operator: OperatorProcess;
let grpcPort: number;
let kubeletPort: number;
let ingressPort: number;
let tcpPorts: { first: number; last: number };
let ca: string;

/** Every name resolves to the ingress on loopback, as *.lattice.localhost does for browsers. */
const loopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) (callback as (err: null, addresses: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

// A small HTTP server in the node:18 image (no npm packages there): JSON on /, a response
// streamed in three delayed chunks on /stream, a minimal RFC 6455 WebSocket echo; and a TCP
// echo on port 9000.
const SERVER = String.raw`
const http = require('http'), crypto = require('crypto');
const server = http.createServer((req, res) => {
  if (req.url === '/stream') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    let i = 0;
    const timer = setInterval(() => { res.write('chunk ' + i + '\n'); if (++i === 3) { clearInterval(timer); res.end('done\n'); } }, 500);
    return;
  }
  if (req.url === '/big') {
    // 32 MiB, written as fast as the connection takes it.
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    let left = 32;
    const more = () => { while (left > 0) { left--; if (!res.write(chunk)) return res.once('drain', more); } res.end(); };
    return more();
  }
  let received = 0;
  req.on('data', (d) => (received += d.length));
  req.on('end', () => res.end(JSON.stringify({ hello: 'lattice', host: req.headers.host, proto: req.headers['x-forwarded-proto'], method: req.method, url: req.url, received })));
});
server.on('upgrade', (req, socket) => {
  const accept = crypto.createHash('sha1').update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' + accept + '\r\n\r\n');
  let buf = Buffer.alloc(0);
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 2) {
      const op = buf[0] & 15;
      let len = buf[1] & 127, off = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
      else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
      const mask = buf[1] & 128 ? buf.subarray(off, off + 4) : null;
      if (mask) off += 4;
      if (buf.length < off + len) return;
      const payload = Buffer.from(buf.subarray(off, off + len).map((b, i) => (mask ? b ^ mask[i % 4] : b)));
      buf = buf.subarray(off + len);
      if (op === 8) { socket.end(Buffer.from([0x88, 0])); return; }
      const head = len < 126 ? Buffer.from([0x80 | op, len]) : Buffer.from([0x80 | op, 126, len >> 8, len & 255]);
      socket.write(Buffer.concat([head, payload]));
    }
  });
});
server.listen(8080);
require('net').createServer({ allowHalfOpen: true }, (s) => s.pipe(s)).listen(9000);
process.on('SIGTERM', () => process.exit(0));
`;

async function apply(manifest: Record<string, unknown>): Promise<void> {
  await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
}

async function applyWorkload(name: string, spec: Record<string, unknown>): Promise<void> {
  await apply({
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name, namespace },
    spec: { resources: { cpu: '100m', memory: '64Mi' }, placement: { providerSelector: { [RUN_LABEL]: namespace } }, ...spec },
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Milliseconds from the request to each body chunk, and to the end. */
  chunkTimes: number[];
  endTime: number;
}

/** An HTTPS/1.1 request verified against Lattice's CA. */
function get(url: string, options: { method?: string; body?: string } = {}): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: options.method ?? 'GET', ca, lookup: loopback, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const chunkTimes: number[] = [];
      res.on('data', (d: Buffer) => {
        chunks.push(d);
        chunkTimes.push(Date.now() - started);
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString(), chunkTimes, endTime: Date.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The operator with the ingress on loopback, as a user would set its flags. */
async function startOperator(): Promise<void> {
  operator = OperatorProcess.start({
    identity: 'ingress-operator',
    namespace: gatewayNamespace,
    watchNamespace: namespace,
    grpcHost: PUBLIC_ADDRESS,
    grpcPort,
    kubeletPort,
    extra: [
      ...['--ingress-base-domain', BASE_DOMAIN, '--ingress-address', '127.0.0.1', '--ingress-port', String(ingressPort)],
      ...['--ingress-max-requests-per-client', '20'],
      ...['--ingress-tcp-ports', `${tcpPorts.first}-${tcpPorts.last}`, '--ingress-tcp-host', '127.0.0.1'],
      ...['--postgres-provider-selector', `${RUN_LABEL}=${namespace}`],
    ],
  });
  await operator.gatewayListening();
  await waitFor('the ingress listening', () => operator.logged('ingress listening'), { timeoutMs: 30_000 });
}

/** What kubectl logs / saves: the operator's and agent's output, for a failure's post-mortem. */
async function saveLogs(): Promise<void> {
  const file = path.join(stateDir, 'logs', 'ingress.log');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, [`--- operator\n${operator?.output.join('\n')}`, `--- agent ${agent.name}\n${agent.output.join('')}`].join('\n'));
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  [grpcPort, kubeletPort] = [await freePort(), await freePort()];
  ingressPort = await freePort();
  // A small range of its own, away from the ports the OS hands out (32768 and up).
  const first = 20_000 + Math.floor(Math.random() * 1000) * 10;
  tcpPorts = { first, last: first + 9 };
  // The provider's machine, and the cluster's public address the gateway listens on for it.
  await ensureInternet();
  const machine = await createMachine();
  await startOperator();
  const secret = await core.readNamespacedSecret({ name: 'lattice-gateway-ca', namespace: gatewayNamespace });
  ca = Buffer.from(secret.data!['tls.crt']!, 'base64').toString();

  const token = await createJoinToken(gatewayNamespace, 1);
  Object.assign(agent, await joinedAgent(agent.name, `${PUBLIC_ADDRESS}:${grpcPort}`, token, { cpu: '2', memory: '2Gi', maxPods: 10, labels: { [RUN_LABEL]: namespace } }, { machine }));
  runAgent(agent);
  await waitFor(
    `node ${agent.name} Ready and schedulable`,
    async () => {
      const node = await core.readNode({ name: agent.name }).catch(() => undefined);
      const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready && !node?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
    },
    { timeoutMs: 60_000 },
  );
}, 180_000);

afterAll(async () => {
  await saveLogs().catch(() => undefined);
  await operator?.stop('SIGTERM');
  await stopAgent(agent);
  await removeSuiteLeftovers({ namespaces: [namespace], gatewayNamespace, agents: [agent] });
  await removeAllMachines();
}, 120_000);

describe('a public HTTP Workload', () => {
  const url = () => `https://web--${namespace}.${BASE_DOMAIN}:${ingressPort}`;

  beforeAll(async () => {
    await applyWorkload('web', {
      image: NODE_IMAGE,
      command: ['node', '-e', SERVER],
      ports: [
        { name: 'http', port: 8080, expose: 'public' },
        { name: 'echo', port: 9000, protocol: 'TCP', expose: 'public' },
      ],
    });
  }, 30_000);

  test('is Ready with its public URL in status once the URL answers', async () => {
    await kubectl(['wait', '--for=condition=Ready', '--timeout=120s', '-n', namespace, 'workload/web']);
    const wl = await getWorkload('web');
    expect((wl.status as { url?: string }).url).toBe(url());
    expect(wl.status?.endpoints?.[0]).toEqual({ port: 'http', url: url() });
    expect(condition(wl, 'Ready')?.message).toContain(`${url()} answers`);
    // kubectl get shows it.
    expect(await kubectl(['get', 'workload', 'web', '-n', namespace])).toContain(url());
  });

  test('answers a plain HTTPS request, with a certificate from the Lattice CA', async () => {
    const answer = await get(`${url()}/hello?x=1`, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ hello: 'lattice', host: `web--${namespace}.${BASE_DOMAIN}:${ingressPort}`, proto: 'https', method: 'POST', url: '/hello?x=1', received: 100_000 });
  });

  test('streams a response: each chunk arrives as the application writes it', async () => {
    const answer = await get(`${url()}/stream`);
    expect(answer.body).toBe('chunk 0\nchunk 1\nchunk 2\ndone\n');
    // The chunks are written 500 ms apart, the end 1 s after the first: buffered, they would all
    // arrive at once; streamed, the first arrives well before the end (jitter allowed for).
    expect(answer.chunkTimes.length).toBeGreaterThanOrEqual(3);
    expect(answer.endTime - answer.chunkTimes[0]!).toBeGreaterThan(400);
  });

  test('a large download reaches a slow reader whole: the tunnel holds back instead of buffering', async () => {
    const started = Date.now();
    const { bytes, paused } = await new Promise<{ bytes: number; paused: boolean }>((resolve, reject) => {
      https
        .get(`${url()}/big`, { ca, lookup: loopback, agent: false }, (res) => {
          let bytes = 0;
          let paused = false;
          res.on('data', (d: Buffer) => {
            bytes += d.length;
            // Stop reading for a second once 4 MiB arrived: the pod must wait, nothing is dropped.
            if (!paused && bytes > 4 * 1024 * 1024) {
              paused = true;
              res.pause();
              setTimeout(() => res.resume(), 1000);
            }
          });
          res.on('end', () => resolve({ bytes, paused }));
          res.on('error', reject);
        })
        .on('error', reject);
    });
    expect(paused).toBe(true);
    expect(bytes).toBe(32 * 1024 * 1024);
    expect(Date.now() - started).toBeGreaterThan(1000);
  });

  test('a large upload reaches the application whole', async () => {
    const answer = await get(`${url()}/upload`, { method: 'POST', body: 'u'.repeat(24 * 1024 * 1024) });
    expect(JSON.parse(answer.body)).toMatchObject({ url: '/upload', received: 24 * 1024 * 1024 });
  });

  test('serves HTTP/2 clients', async () => {
    const session = http2.connect(url(), { ca, lookup: loopback });
    try {
      const body = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        // A session without an 'error' listener would throw out of the suite instead of failing this test.
        session.on('error', reject);
        const stream = session.request({ ':path': '/h2', ':method': 'GET' });
        let status = 0;
        let text = '';
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('data', (d: Buffer) => (text += d.toString()));
        stream.on('end', () => resolve({ status, text }));
        stream.on('error', reject);
        stream.end();
      });
      expect(session.alpnProtocol).toBe('h2');
      expect(body.status).toBe(200);
      expect(JSON.parse(body.text)).toMatchObject({ hello: 'lattice', url: '/h2', proto: 'https' });
    } finally {
      session.close();
    }
  });

  test('echoes over a WebSocket', async () => {
    const ws = new WebSocket(`${url().replace('https:', 'wss:')}/ws`, { ca, lookup: loopback });
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => {
        ws.send('hello');
        ws.send('x'.repeat(20_000));
      });
      ws.on('message', (data) => {
        received.push(data.toString());
        if (received.length === 2) resolve();
      });
      ws.on('error', reject);
    });
    ws.close();
    expect(received).toEqual(['hello', 'x'.repeat(20_000)]);
  });

  test('a public TCP port has a gateway port in status.endpoints, relayed raw', async () => {
    const wl = await waitForStatus('web', 'the TCP endpoint', (w) => !!w.status?.endpoints?.some((e) => e.port === 'echo' && e.url.startsWith('tcp://127.0.0.1:')));
    const port = Number(new URL(wl.status!.endpoints!.find((e) => e.port === 'echo')!.url).port);
    expect(port).toBeGreaterThanOrEqual(tcpPorts.first);
    expect(port).toBeLessThanOrEqual(tcpPorts.last);
    const echoed = await waitFor('the echo through the gateway port', async () => {
      const socket = net.connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      socket.on('data', (d: Buffer) => chunks.push(d));
      await once(socket, 'connect');
      socket.end('hello over tcp');
      await once(socket, 'close');
      return Buffer.concat(chunks).toString() || undefined;
    });
    expect(echoed).toBe('hello over tcp');
  });

  test('an unknown host is a 404 page saying what URLs look like', async () => {
    const answer = await get(`https://nothing--${namespace}.${BASE_DOMAIN}:${ingressPort}/`);
    expect(answer.status).toBe(404);
    expect(answer.headers['x-lattice-ingress']).toBe('no-route');
    expect(answer.body).toContain(`https://&lt;workload&gt;--&lt;namespace&gt;.${BASE_DOMAIN}`);
  });

  test('a client over its request rate is answered 429 with Retry-After, and served again a moment later', async () => {
    // The operator takes 20 requests a second from one address, in bursts of 40: 100 at once go over.
    const session = http2.connect(url(), { ca, lookup: loopback });
    try {
      const requestOnce = () =>
        new Promise<{ status: number; headers: http2.IncomingHttpHeaders }>((resolve, reject) => {
          const stream = session.request({ ':path': '/burst', ':method': 'GET' });
          stream.on('response', (headers) => {
            stream.resume();
            stream.on('end', () => resolve({ status: Number(headers[':status']), headers }));
          });
          stream.on('error', reject);
          stream.end();
        });
      await new Promise<void>((resolve, reject) => {
        session.on('error', reject);
        session.once('connect', () => resolve());
      });
      const answers = await Promise.all(Array.from({ length: 100 }, requestOnce));
      const refused = answers.filter((a) => a.status === 429);
      const served = answers.filter((a) => a.status === 200).length;
      // At most the burst (less what the suite's earlier requests left unrefilled), and a few refilled meanwhile.
      expect(served).toBeGreaterThan(0);
      expect(served).toBeLessThanOrEqual(50);
      expect(served + refused.length).toBe(100);
      expect(refused[0]!.headers).toMatchObject({ 'retry-after': '1', 'x-lattice-ingress': 'client-requests' });
      await waitFor('a request served again', async () => (await requestOnce()).status === 200, { timeoutMs: 10_000, intervalMs: 500 });
    } finally {
      session.close();
    }
    const text = await (await fetch(operator.url('/metrics'))).text();
    expect(text).toMatch(/lattice_ingress_refused_total\{reason="client-requests"\} [1-9]/);
  });

  test('the metrics count requests, bytes and tunnels of the endpoint', async () => {
    const endpoint = `${namespace}/web:http`;
    const text = await (await fetch(operator.url('/metrics'))).text();
    expect(text).toMatch(new RegExp(`lattice_ingress_requests_total\\{endpoint="${endpoint}",kind="http",code="2xx"\\} [1-9]`));
    expect(text).toMatch(new RegExp(`lattice_ingress_bytes_total\\{endpoint="${endpoint}",direction="in"\\} [1-9]`));
    expect(text).toMatch(/lattice_ingress_relay_latency_seconds_count\{kind="http"\} [1-9]/);
    expect(text).toMatch(/lattice_gateway_streams_open\{kind="dial"\} \d/);
  });
});

describe('kubectl port-forward', () => {
  test("reaches a replica's port through the kubelet API and the same tunnel", async () => {
    const pod = (await core.listNamespacedPod({ namespace, labelSelector: 'lattice.dev/workload=web' })).items[0]!;
    const localPort = await freePort();
    const child = spawn(path.join(binDir, 'kubectl'), ['--kubeconfig', kubeconfigPath, 'port-forward', '-n', namespace, `pod/${pod.metadata!.name}`, `${localPort}:8080`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor('kubectl port-forward listening', () => output.includes('Forwarding from'), { timeoutMs: 20_000 });
      for (let i = 0; i < 3; i++) {
        const answer = await fetch(`http://127.0.0.1:${localPort}/forwarded`);
        expect(await answer.json()).toMatchObject({ hello: 'lattice', url: '/forwarded' });
      }
    } finally {
      child.kill();
    }
    expect(output).not.toMatch(/error/i);
    // The client going away mid-session leaves the gateway serving.
    await new Promise((resolve) => child.once('exit', resolve));
    expect((await get(`https://web--${namespace}.${BASE_DOMAIN}:${ingressPort}/after`)).status).toBe(200);
  });
});

describe('a public Workload whose application does not answer', () => {
  test('is not Ready: its replica runs, but its URL does not answer', async () => {
    // Nothing listens on the port: the replica is running, the URL is not served.
    await applyWorkload('mute', { image: `${REGISTRY}/lattice/busybox:1`, command: ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"], ports: [{ name: 'http', port: 8080, expose: 'public' }] });
    const wl = await waitForStatus('mute', 'the replica ready but the URL not answering', (w) => condition(w, 'Ready')?.reason === 'PublicURLNotAnswering');
    expect(wl.status?.readyReplicas).toBe(1);
    expect(condition(wl, 'Ready')).toMatchObject({ status: 'False' });
    expect(condition(wl, 'Ready')?.message).toContain(`https://mute--${namespace}.${BASE_DOMAIN}:${ingressPort}`);
    // A user gets a clear answer, not a hang.
    const answer = await get(`https://mute--${namespace}.${BASE_DOMAIN}:${ingressPort}/`);
    expect(answer.status).toBe(502);
    expect(answer.body).toContain('could not be reached');
  });
});

describe('a public PostgresInstance', () => {
  test('psql connects through the gateway with the public URI of its connection Secret, on the same port after a restart', async () => {
    await apply({
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'PostgresInstance',
      metadata: { name: 'db', namespace },
      spec: { version: '15', database: 'app', owner: 'app', storage: { size: '1Gi' }, resources: { cpu: '500m', memory: '256Mi' }, expose: 'public' },
    });
    await kubectl(['wait', '--for=condition=Ready', '--timeout=150s', '-n', namespace, 'postgresinstance/db']);
    const data = await waitFor(
      'the connection Secret with its public URI',
      async () => {
        const s = secretData(await core.readNamespacedSecret({ name: 'db-connection', namespace }));
        return s.publicUri ? s : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(data.publicHost).toBe('127.0.0.1');
    expect(Number(data.publicPort)).toBeGreaterThanOrEqual(tcpPorts.first);
    expect(Number(data.publicPort)).toBeLessThanOrEqual(tcpPorts.last);
    expect(data.publicUri).toBe(`postgresql://app:${encodeURIComponent(data.password!)}@127.0.0.1:${data.publicPort}/app`);
    // The in-cluster form is unchanged.
    expect(data.host).toBe(`db.${namespace}.svc`);

    const psql = (sql: string) => run('psql', [data.publicUri!, '-v', 'ON_ERROR_STOP=1', '-tAc', sql], { timeout: 30_000 });
    await psql('CREATE TABLE notes (id int PRIMARY KEY, body text)');
    await psql("INSERT INTO notes SELECT g, repeat('n', 1000) FROM generate_series(1, 2000) g");
    const { stdout } = await psql('SELECT count(*), sum(length(body)) FROM notes');
    expect(stdout.trim()).toBe('2000|2000000');
    // The port is recorded on the Service, so a restarted gateway listens on the same one.
    const service = await core.readNamespacedService({ name: 'db', namespace });
    expect(JSON.parse(service.metadata!.annotations!['lattice.dev/public-tcp-ports']!)).toEqual({ postgres: Number(data.publicPort) });

    await operator.stop('SIGTERM');
    await startOperator();
    const { stdout: again } = await waitFor('psql through the restarted gateway', () => psql('SELECT count(*) FROM notes'), { timeoutMs: 60_000, intervalMs: 1000 });
    expect(again.trim()).toBe('2000');
  });
});
