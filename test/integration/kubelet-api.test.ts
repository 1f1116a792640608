// The gateway's kubelet API behind the real kube-apiserver: `kubectl logs` and `kubectl exec`
// for a pod bound to a Node whose kubelet endpoint is our server. Only the agent end is a
// stand-in (FakeAgent below), and it really runs the commands on this machine.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import {
  AgentMessageSchema,
  GatewayMessageSchema,
  type AgentMessage,
  type GatewayMessage,
  type LogOptions,
  type OpenStream,
} from '@lattice/protocol';
import { Registry } from 'prom-client';
import { createStreamMetrics } from '../../operator/src/gateway/kubelet-api/metrics.js';
import { apiPodLocator } from '../../operator/src/gateway/kubelet-api/pods.js';
import { startKubeletApi, type RunningKubeletApi } from '../../operator/src/gateway/kubelet-api/start.js';
import { StreamMux, type StreamObserver } from '../../operator/src/gateway/streams.js';
import { adminKubeConfig, binDir, kubeconfigPath, kubectl, uniqueName, waitFor } from '../support/cluster.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const certificates = kc.makeApiClient(k8s.CertificatesV1Api);
const rbac = kc.makeApiClient(k8s.RbacAuthorizationV1Api);
const namespace = uniqueName('it-kubelet-api');
const connectedNode = uniqueName('kapi-connected');
const offlineNode = uniqueName('kapi-offline');
const pod = 'worker';
const offlinePod = 'stranded';
const viewer = uniqueName('kapi-viewer');
const registry = new Registry();
const observer = createStreamMetrics(registry);

/** The agent stand-in: answers OpenStream with canned logs, or by running the command. */
class FakeAgent {
  readonly mux: StreamMux;
  readonly received: GatewayMessage[] = [];
  private readonly running = new Map<string, { stop: () => void; child?: ChildProcess }>();
  /** Terminal sessions waiting for their first window size, by stream. */
  private readonly awaitingSize = new Map<string, () => void>();

  constructor(metrics: StreamObserver) {
    this.mux = new StreamMux({
      send: (msg) => {
        // Everything the gateway sends must be a valid protocol message.
        this.onMessage(GatewayMessageSchema.parse(msg));
        return true;
      },
      observer: metrics,
    });
  }

  private reply(msg: AgentMessage): void {
    const parsed = AgentMessageSchema.parse(msg);
    setImmediate(() => {
      if (parsed.msg === 'streamData' || parsed.msg === 'streamEnd') this.mux.handle(parsed);
    });
  }

  private data(streamId: string, channel: 1 | 2, text: string | Buffer): void {
    this.reply({ msg: 'streamData', streamData: { streamId, channel, data: Buffer.from(text) } });
  }

  private end(streamId: string, outcome: { exitCode?: number; error?: string }): void {
    this.running.delete(streamId);
    this.reply({ msg: 'streamEnd', streamEnd: { streamId, error: outcome.error ?? '', exitCode: outcome.exitCode ?? null } });
  }

  private onMessage(msg: GatewayMessage): void {
    this.received.push(msg);
    switch (msg.msg) {
      case 'openStream':
        if (msg.openStream.kind === 'logs') this.logs(msg.openStream, msg.openStream.logs!);
        else this.exec(msg.openStream);
        break;
      case 'streamData': {
        const stdin = this.running.get(msg.streamData.streamId)?.child?.stdin;
        if (msg.streamData.data.byteLength === 0) stdin?.end();
        else stdin?.write(msg.streamData.data);
        break;
      }
      case 'streamEnd':
        this.running.get(msg.streamEnd.streamId)?.stop();
        this.running.delete(msg.streamEnd.streamId);
        break;
      case 'streamResize':
        this.awaitingSize.get(msg.streamResize.streamId)?.();
        break;
      default:
        break;
    }
  }

  private logs(open: OpenStream, options: LogOptions): void {
    const id = open.streamId;
    const stamp = (i: number) => (options.timestamps ? `2026-01-02T03:04:0${i % 10}.000000000Z ` : '');
    const lines = options.previous
      ? [`${open.container}: previous instance crashed`]
      : [1, 2, 3, 4, 5].map((i) => `${open.container} line ${i}`);
    const shown = options.tailLines != null ? lines.slice(-options.tailLines || lines.length) : lines;
    shown.forEach((line, i) => this.data(id, i === 1 ? 2 : 1, `${stamp(i)}${line}\n`));
    if (!options.follow) {
      this.end(id, {});
      return;
    }
    let tick = 0;
    const timer = setInterval(() => this.data(id, 1, `${stamp(++tick)}${open.container} tick ${tick}\n`), 300);
    this.running.set(id, { stop: () => clearInterval(timer) });
  }

  private exec(open: OpenStream): void {
    const { command, tty } = open.exec!;
    const quoted = command.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
    // A terminal for the command: script(1) runs it on a fresh pty.
    const child = tty ? spawn('script', ['-qfec', quoted, '/dev/null']) : spawn(command[0]!, command.slice(1));
    const id = open.streamId;
    this.running.set(id, { stop: () => child.kill(), child });
    child.stdout!.on('data', (chunk: Buffer) => this.data(id, 1, chunk));
    child.stderr!.on('data', (chunk: Buffer) => this.data(id, 2, chunk));
    child.on('error', (err) => this.end(id, { error: err.message }));
    // kubectl sends the window size as the session starts; a real terminal has it before the
    // command ends, so a terminal session here ends only once it came (or after 10 s).
    const sized = tty ? this.firstSize(id, 10_000) : Promise.resolve();
    child.on('close', (code, signal) => void sized.then(() => this.end(id, { exitCode: code ?? 128 + (signal ? 9 : 0) })));
  }

  private firstSize(streamId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.awaitingSize.set(streamId, () => {
        this.awaitingSize.delete(streamId);
        done();
      });
    });
  }

  resizes(): { width: number; height: number }[] {
    return this.received.flatMap((m) => (m.msg === 'streamResize' ? [m.streamResize] : []));
  }
}

const agent = new FakeAgent(observer);
let api: RunningKubeletApi;

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion, resolving with its exit code and output (never rejecting). */
function run(file: string, args: string[], input?: string, env?: Record<string, string>): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, env ? { env: { ...process.env, ...env } } : {});
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const kubectlBin = path.join(binDir, 'kubectl');
const kubectlRun = (args: string[], input?: string, env?: Record<string, string>) =>
  run(kubectlBin, ['--kubeconfig', kubeconfigPath, '-n', namespace, ...args], input, env);

async function createNode(name: string, port: number): Promise<void> {
  await core.createNode({
    body: {
      metadata: { name, labels: { 'lattice.dev/test': 'kubelet-api' } },
      spec: { taints: [{ key: 'lattice.dev/test', value: 'kubelet-api', effect: 'NoSchedule' }] },
    },
  });
  await core.patchNodeStatus(
    {
      name,
      body: {
        status: {
          addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
          daemonEndpoints: { kubeletEndpoint: { Port: port } },
        },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

async function createRunningPod(name: string, nodeName: string, containers: string[]): Promise<void> {
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        nodeName,
        containers: containers.map((c) => ({ name: c, image: 'busybox' })),
        tolerations: [{ key: 'lattice.dev/test', operator: 'Exists' }],
      },
    },
  });
  const now = new Date().toISOString();
  await core.patchNamespacedPodStatus(
    {
      namespace,
      name,
      body: {
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
          containerStatuses: containers.map((c) => ({
            name: c,
            image: 'busybox',
            imageID: '',
            ready: true,
            restartCount: 1,
            started: true,
            state: { running: { startedAt: now } },
          })),
        },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

/** A client certificate for `user`, issued through the kube-apiserver-client signer. */
async function clientCertificate(user: string): Promise<{ cert: string; key: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kubelet-api-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const { stdout: csrPem } = await promisify(execFile)('openssl', [
      'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-subj', `/CN=${user}`,
    ]);
    return { ...(await signClientCsr(user, csrPem)), key: await readFile(keyFile, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function signClientCsr(user: string, csrPem: string): Promise<{ cert: string }> {
  const csr = await certificates.createCertificateSigningRequest({
    body: {
      metadata: { name: user },
      spec: {
        request: Buffer.from(csrPem).toString('base64'),
        signerName: 'kubernetes.io/kube-apiserver-client',
        usages: ['digital signature', 'client auth'],
      },
    },
  });
  csr.status = { conditions: [{ type: 'Approved', status: 'True', reason: 'Test', message: 'kubelet-api test' }] };
  await certificates.replaceCertificateSigningRequestApproval({ name: user, body: csr });
  const cert = await waitFor('the viewer certificate', async () => {
    const signed = await certificates.readCertificateSigningRequest({ name: user });
    return signed.status?.certificate && Buffer.from(signed.status.certificate, 'base64').toString();
  });
  return { cert };
}

interface DirectResponse {
  status: number;
  body: string;
}

/** A request straight to the kubelet API, as `identity` (or anonymously). */
function direct(pathAndQuery: string, identity?: { cert: string; key: string }): Promise<DirectResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: api.port,
        path: pathAndQuery,
        ca: Buffer.from(kc.getCurrentCluster()!.caData!, 'base64'),
        ...identity,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

let viewerIdentity: { cert: string; key: string };

/** The kubeconfig's own client certificate (cluster admin). */
function adminIdentity(): { cert: string; key: string } {
  const user = kc.getCurrentUser()!;
  return { cert: Buffer.from(user.certData!, 'base64').toString(), key: Buffer.from(user.keyData!, 'base64').toString() };
}

beforeAll(async () => {
  api = await startKubeletApi({
    kc,
    identity: uniqueName('lattice-gateway-test'),
    listenHost: '127.0.0.1',
    port: 0,
    advertisedHosts: ['127.0.0.1'],
    locatePod: apiPodLocator(kc),
    connections: (node) => (node === connectedNode ? agent.mux : undefined),
  });
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await createNode(connectedNode, api.port);
  await createNode(offlineNode, api.port);
  await createRunningPod(pod, connectedNode, ['app', 'sidecar']);
  await createRunningPod(offlinePod, offlineNode, ['app']);

  // A user allowed on the connected node only.
  await rbac.createClusterRole({
    body: {
      metadata: { name: viewer },
      rules: [{ apiGroups: [''], resources: ['nodes/proxy'], resourceNames: [connectedNode], verbs: ['get'] }],
    },
  });
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: viewer },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: viewer },
      subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: viewer }],
    },
  });
  viewerIdentity = await clientCertificate(viewer);
}, 120_000);

afterAll(async () => {
  await api?.close();
  const quietly = (p: Promise<unknown>) => p.catch(() => undefined);
  await Promise.all([
    quietly(core.deleteNamespacedPod({ namespace, name: pod, gracePeriodSeconds: 0 })),
    quietly(core.deleteNamespacedPod({ namespace, name: offlinePod, gracePeriodSeconds: 0 })),
    quietly(certificates.deleteCertificateSigningRequest({ name: viewer })),
    quietly(rbac.deleteClusterRoleBinding({ name: viewer })),
    quietly(rbac.deleteClusterRole({ name: viewer })),
  ]);
  await quietly(core.deleteNamespace({ name: namespace }));
  await Promise.all([quietly(core.deleteNode({ name: connectedNode })), quietly(core.deleteNode({ name: offlineNode }))]);
}, 60_000);

describe('kubectl logs', () => {
  test('shows stdout and stderr of the default container', async () => {
    const out = await kubectl(['logs', '-n', namespace, pod, '-c', 'app']);
    expect(out).toBe(['app line 1', 'app line 2', 'app line 3', 'app line 4', 'app line 5', ''].join('\n'));
  });

  test('-c, --tail and --timestamps reach the agent', async () => {
    expect(await kubectl(['logs', '-n', namespace, pod, '-c', 'sidecar', '--tail', '2'])).toBe('sidecar line 4\nsidecar line 5\n');
    const stamped = (await kubectl(['logs', '-n', namespace, pod, '-c', 'app', '--timestamps'])).trim().split('\n');
    expect(stamped).toHaveLength(5);
    for (const line of stamped) expect(line).toMatch(/^2026-01-02T03:04:0\d\.000000000Z app line \d$/);
  });

  test('--previous is passed through', async () => {
    expect(await kubectl(['logs', '-n', namespace, pod, '-c', 'app', '--previous'])).toBe('app: previous instance crashed\n');
    const opened = agent.received.flatMap((m) => (m.msg === 'openStream' && m.openStream.logs?.previous ? [m.openStream] : []));
    expect(opened).toHaveLength(1);
  });

  test('-f streams lines as they come, and stopping kubectl ends the agent stream', async () => {
    const child = spawn(kubectlBin, ['--kubeconfig', kubeconfigPath, 'logs', '-f', '-n', namespace, pod, '-c', 'app']);
    const arrivals: { at: number; line: string }[] = [];
    let partial = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) arrivals.push({ at: Date.now(), line });
    });
    try {
      await waitFor('three ticks of the followed log', () => arrivals.some((a) => a.line === 'app tick 3'), { timeoutMs: 20_000 });
      expect(arrivals.slice(0, 5).map((a) => a.line)).toEqual(['app line 1', 'app line 2', 'app line 3', 'app line 4', 'app line 5']);
      const tick1 = arrivals.find((a) => a.line === 'app tick 1')!;
      const tick3 = arrivals.find((a) => a.line === 'app tick 3')!;
      // Each tick arrived on its own, not buffered up until the end: 600 ms apart when sent, at
      // least one tick's interval apart when they arrive (the relays add their own jitter).
      expect(tick3.at - tick1.at).toBeGreaterThanOrEqual(300);
      expect(child.exitCode).toBeNull();
      expect(await registry.getSingleMetricAsString('lattice_gateway_streams_open')).toMatch(/kind="logs"} 1/);
    } finally {
      child.kill();
    }
    await waitFor('the gateway to close the agent stream', () => agent.mux.openStreams === 0, { timeoutMs: 20_000 });
  });

  test('a pod whose node has no connected agent answers 503 with the reason', async () => {
    const result = await kubectlRun(['logs', offlinePod]);
    expect(result.code).not.toBe(0);
    // The apiserver replaces a kubelet's 503 body with its own message for ServiceUnavailable.
    expect(result.stderr).toContain('Error from server (ServiceUnavailable)');
    const res = await direct(`/containerLogs/${namespace}/${offlinePod}/app`, adminIdentity());
    expect(res.status).toBe(503);
    expect(res.body).toContain(`node ${offlineNode} has no agent connected to this Lattice gateway`);
  });
});

describe('kubectl exec', () => {
  test('kubectl speaks WebSockets to the apiserver, which reaches the kubelet over SPDY/3.1', async () => {
    const upgrades: IncomingHttpHeaders[] = [];
    const record = (req: IncomingMessage) => upgrades.push(req.headers);
    api.server.prependListener('upgrade', record);
    try {
      const result = await kubectlRun(['exec', pod, '-v=6', '--', 'true']);
      expect(result.code).toBe(0);
      // kubectl's request to the apiserver was a WebSocket upgrade (remotecommand v5)...
      expect(result.stderr).toMatch(/verb="GET" url="[^"]*\/exec\?[^"]*" status="101 Switching Protocols"/);
      // ...which the apiserver translated into SPDY towards the kubelet, offering v5 to v1.
      expect(upgrades).toHaveLength(1);
      expect(upgrades[0]).toMatchObject({ upgrade: 'SPDY/3.1', 'x-stream-protocol-version': expect.stringContaining('v4.channel.k8s.io') });
      expect(upgrades[0]!['sec-websocket-protocol']).toBeUndefined();
    } finally {
      api.server.off('upgrade', record);
    }
  });

  test('kubectl falling back to SPDY is proxied through to the same SPDY server', async () => {
    const result = await kubectlRun(['exec', pod, '--', 'sh', '-c', 'echo spdy; exit 4'], undefined, { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' });
    expect(result).toMatchObject({ code: 4, stdout: 'spdy\n' });
  });

  test('output larger than a SPDY flow-control window is relayed whole', async () => {
    // spdystream never sends WINDOW_UPDATE: a server that waited for one would stall at 64 KiB.
    const result = await kubectlRun(['exec', pod, '--', 'sh', '-c', 'head -c 3000000 /dev/zero | tr "\\0" x']);
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBe(3_000_000);
  });

  test('relays stdout and stderr apart, and exits with the command exit code', async () => {
    const result = await kubectlRun(['exec', pod, '-c', 'app', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toContain('err\n');
    expect(result.stderr).toContain('command terminated with exit code 3');
    expect(result.code).toBe(3);
  });

  test('a successful command exits 0', async () => {
    const result = await kubectlRun(['exec', pod, '--', 'echo', 'hello']);
    expect(result).toMatchObject({ code: 0, stdout: 'hello\n' });
  });

  test('-i pipes stdin to the command, and its end closes the command stdin', async () => {
    const result = await kubectlRun(['exec', '-i', pod, '-c', 'app', '--', 'tr', 'a-z', 'A-Z'], 'hello\nworld\n');
    expect(result).toMatchObject({ code: 0, stdout: 'HELLO\nWORLD\n' });
  });

  test('-it runs the command on a terminal and relays the window size', async () => {
    const inner = `stty cols 123 rows 45; ${kubectlBin} --kubeconfig ${kubeconfigPath} -n ${namespace} exec -it ${pod} -c app -- sh -c 'test -t 0 && test -t 1 && echo on-a-tty; exit 7'`;
    const result = await run('script', ['-qfec', inner, '/dev/null']);
    expect(result.stdout).toContain('on-a-tty');
    expect(result.code).toBe(7);
    expect(agent.resizes()).toContainEqual(expect.objectContaining({ width: 123, height: 45 }));
  });

  test('exec for a pod whose node has no connected agent is refused with the reason', async () => {
    const result = await kubectlRun(['exec', offlinePod, '--', 'true']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`node ${offlineNode} has no agent connected to this Lattice gateway`);
  });
});

describe('direct clients', () => {
  test('/healthz answers without credentials', async () => {
    expect(await direct('/healthz')).toEqual({ status: 200, body: 'ok' });
  });

  test('a client without a certificate is refused', async () => {
    const res = await direct(`/containerLogs/${namespace}/${pod}/app`);
    expect(res.status).toBe(401);
  });

  test('a user allowed on one node reads its pods but not those of another node', async () => {
    const allowed = await direct(`/containerLogs/${namespace}/${pod}/app?tailLines=1`, viewerIdentity);
    expect(allowed).toEqual({ status: 200, body: 'app line 5\n' });
    const refused = await direct(`/containerLogs/${namespace}/${offlinePod}/app`, viewerIdentity);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain(`user=${viewer}`);
    expect(refused.body).toContain(`nodes/${offlineNode}`);
  });

  test('invalid log options are a 400 naming the option', async () => {
    const res = await direct(`/containerLogs/${namespace}/${pod}/app?tailLines=-1`, viewerIdentity);
    expect(res.status).toBe(400);
    expect(res.body).toContain('tailLines');
  });

  test('unknown paths are 404 and attach is 501', async () => {
    expect((await direct('/stats/summary', viewerIdentity)).status).toBe(404);
    const attach = await direct(`/attach/${namespace}/${pod}/app?output=1`, viewerIdentity);
    expect(attach.status).toBe(501);
    expect(JSON.parse(attach.body)).toMatchObject({ kind: 'Status', code: 501, reason: 'NotImplemented' });
  });
});
