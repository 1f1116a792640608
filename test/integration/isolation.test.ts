// A pod is a stranger's code on a provider's machine: it reaches the pods of its own namespace, and
// nothing of another namespace, of the machine itself or of the networks around it. Every case is
// probed from inside a real pod (busybox nc with short timeouts) run by a real agent, and
// each has a positive control: the same probe, or the same address from where it is allowed,
// succeeds, so a refusal means isolation and not a broken probe.
//
// Only loopback and the Docker bridges of this machine are ever probed. The operator's admin port
// listens on every address (its default) and its kubelet port on Docker's default bridge (a
// gateway on a provider's machine would be reachable there too), so they are there to be refused.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import Docker from 'dockerode';
import { adminKubeConfig, kubectl, uniqueName, waitFor } from '../support/cluster.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { BUSYBOX, cleanupNodes, joinedAgent, removeNamespaceNetworks, runAgent, stopAgent, type AgentProcess } from '../support/providers.js';

const run = promisify(execFile);
const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const docker = new Docker();

const id = uniqueName('iso');
const nsA = `${id}-a`;
const nsB = `${id}-b`;
const gatewayNamespace = `${id}-gw`;
const agent: AgentProcess = { name: `${id}-node`, stateDir: '', output: [] };
let operator: OperatorProcess;
let kubeletPort: number;
let adminPort: number;
/** The host's address on Docker's default bridge, where the kubelet port listens. */
let dockerBridge: string;
let hostServer: net.Server;
let hostPort: number;
let outsider: Docker.Container;

/** A pod bound straight to the agent's node (no Workload: any namespace's pods reach its agent). */
async function createPod(namespace: string, name: string, script: string): Promise<void> {
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name, namespace, labels: { app: name } },
      spec: {
        nodeName: agent.name,
        tolerations: [{ key: 'lattice.dev/provider', operator: 'Exists' }],
        automountServiceAccountToken: false,
        enableServiceLinks: false,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: BUSYBOX, command: ['sh', '-c', script], resources: { limits: { cpu: '50m', memory: '32Mi' } } }],
      },
    },
  });
}

const SERVE = (text: string) => `mkdir -p /tmp/w && echo ${text} > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w`;
const IDLE = "trap 'exit 0' TERM; sleep 3600 & wait";

async function runningPod(namespace: string, name: string): Promise<{ ip: string; container: string }> {
  return waitFor(`pod ${namespace}/${name} running`, async () => {
    const pod = await core.readNamespacedPod({ name, namespace });
    if (pod.status?.phase !== 'Running' || !pod.status.podIP) return false;
    const [container] = await docker.listContainers({ filters: { label: [`lattice.dev/pod-uid=${pod.metadata!.uid}`, 'lattice.dev/container=main'] } });
    return container ? { ip: pod.status.podIP, container: container.Id } : false;
  }, { timeoutMs: 90_000 });
}

/** Runs a shell command in a container; resolves with its exit code and output. */
async function inPod(container: string, command: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('docker', ['exec', container, 'sh', '-c', command], { timeout: 15_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The probe did not get through: its connection was refused or timed out. */
function expectBlocked(probe: { code: number; output: string }): void {
  expect(probe.code).not.toBe(0);
  expect(probe.output).toMatch(/refused|timed out/i);
}

// (busybox's static wget crashes in these images: HTTP by hand over nc.)
const httpGet = (container: string, host: string, port: number, path = '/') =>
  inPod(container, `printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${host} ${port}`);
const tcpConnect = (container: string, host: string, port: number) => inPod(container, `nc -w 3 ${host} ${port} </dev/null`);

/** The gateway address of a namespace's bridge: the host, as its pods see it. */
async function bridgeGateway(namespace: string): Promise<{ gateway: string; bridge: string }> {
  const [network] = (await docker.listNetworks({ filters: { label: [`lattice.dev/namespace=${namespace}`] } })) as Docker.NetworkInspectInfo[];
  const info = (await docker.getNetwork(network!.Id).inspect()) as Docker.NetworkInspectInfo;
  return { gateway: info.IPAM!.Config![0]!.Gateway!, bridge: info.Options?.['com.docker.network.bridge.name'] ?? '' };
}

/** A TCP connection from the host (this test process) to host:port, answering or not. */
function hostConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 3000 }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false)).on('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/** What host:port answers to an HTTP/1.0 GET from the host (busybox httpd closes each connection). */
function hostGet(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port, timeout: 3000 }, () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    socket.on('data', (d: Buffer) => chunks.push(d)).on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject).on('timeout', () => (socket.destroy(), reject(new Error(`${host}:${port} timed out`))));
  });
}

/**
 * The host's address on Docker's default bridge. Docker 20.10 leaves the gateway out of the
 * bridge's IPAM config when it kept the network from an earlier start: then it is docker0's own.
 */
async function bridgeAddress(): Promise<string> {
  const info = (await docker.getNetwork('bridge').inspect()) as Docker.NetworkInspectInfo;
  const name = info.Options?.['com.docker.network.bridge.name'] ?? 'docker0';
  const address = info.IPAM?.Config?.[0]?.Gateway ?? /inet (\S+)\//.exec((await run('ip', ['-4', '-o', 'addr', 'show', 'dev', name])).stdout)?.[1];
  if (!address) throw new Error(`Docker's default bridge ${name} has no IPv4 address`);
  return address;
}

let a: { ip: string; container: string };
let aClient: { ip: string; container: string };
let bClient: { ip: string; container: string };

beforeAll(async () => {
  for (const name of [nsA, nsB, gatewayNamespace]) await core.createNamespace({ body: { metadata: { name } } });
  const grpcPort = await freePort();
  dockerBridge = await bridgeAddress();
  kubeletPort = await freePort();
  adminPort = await freePort();
  operator = OperatorProcess.start({
    identity: 'operator',
    namespace: gatewayNamespace,
    watchNamespace: nsA,
    grpcPort,
    kubeletPort,
    extra: ['--health-address', '0.0.0.0', '--metrics-port', String(adminPort), '--kubelet-address', dockerBridge],
  });
  // The helper reads the port from a log line naming 127.0.0.1; this one serves on every address.
  operator.metricsPort = adminPort;
  await operator.gatewayListening();
  Object.assign(agent, await joinedAgent(agent.name, `127.0.0.1:${grpcPort}`, await createJoinToken(gatewayNamespace, 1), { cpu: '1', memory: '1Gi', maxPods: 10 }));
  runAgent(agent);
  await operator.ready();
  await waitFor(`node ${agent.name} Ready`, async () => (await core.readNode({ name: agent.name }).catch(() => undefined))?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), { timeoutMs: 60_000 });

  // Something of the machine itself, listening on every address.
  // A probe that times out (nc -w) resets its connection: that is no error of this server's.
  hostServer = net.createServer((socket) => socket.on('error', () => undefined).end('host\n'));
  hostPort = await freePort();
  await new Promise<void>((resolve) => hostServer.listen(hostPort, '0.0.0.0', resolve));
  // Something on another network of the machine: a container on Docker's default bridge.
  outsider = await docker.createContainer({ Image: BUSYBOX, Cmd: ['sh', '-c', SERVE('outsider')], Labels: { 'lattice.dev/test': id } });
  await outsider.start();

  await createPod(nsA, 'server', SERVE('pod-a'));
  // A Service of namespace A in front of it (its pods reach it by name, through their agent).
  await core.createNamespacedService({
    namespace: nsA,
    body: { metadata: { name: 'web' }, spec: { selector: { app: 'server' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } },
  });
  await createPod(nsA, 'client', IDLE);
  await createPod(nsB, 'client', IDLE);
  [a, aClient, bClient] = await Promise.all([runningPod(nsA, 'server'), runningPod(nsA, 'client'), runningPod(nsB, 'client')]);
}, 240_000);

afterAll(async () => {
  hostServer?.close();
  await outsider?.remove({ force: true }).catch(() => undefined);
  for (const ns of [nsA, nsB]) await kubectl(['delete', 'pods', '--all', '-n', ns, '--grace-period=1', '--wait=true', '--timeout=30s']).catch(() => undefined);
  await operator?.stop();
  await stopAgent(agent);
  for (const ns of [nsA, nsB, gatewayNamespace]) await core.deleteNamespace({ name: ns }).catch(() => undefined);
  await core.deleteNode({ name: agent.name }).catch(() => undefined);
  await cleanupNodes([agent.name], [agent.stateDir].filter(Boolean));
  await removeNamespaceNetworks([nsA, nsB]);
}, 120_000);

describe('a pod on a provider', () => {
  test('reaches a pod of its own namespace (the probes work)', async () => {
    // Running is not listening: httpd starts a moment after its container does.
    const probe = await waitFor('the server answering its own namespace', async () => {
      const answer = await httpGet(aClient.container, a.ip, 8080);
      return answer.code === 0 ? answer : false;
    }, { timeoutMs: 30_000, intervalMs: 1000 });
    expect(probe.code).toBe(0);
    expect(probe.output).toMatch(/^HTTP\/1\.[01] 200[^]*pod-a\n$/);
    expect((await tcpConnect(aClient.container, a.ip, 8080)).code).toBe(0);
  });

  test('cannot reach the pods of another namespace, which live on another bridge', async () => {
    const [bridgeA, bridgeB] = await Promise.all([bridgeGateway(nsA), bridgeGateway(nsB)]);
    expect(bridgeA.bridge).not.toBe(bridgeB.bridge);
    expect(bridgeA.bridge).toMatch(/^lt-/);
    expectBlocked(await httpGet(bClient.container, a.ip, 8080));
  });

  test('cannot reach the Services of another namespace', async () => {
    // Positive control: namespace A's pod reaches the Service by its name (the agent listens on
    // the Service's own address on A's bridge, which A's /etc/hosts names).
    const viaService = await waitFor('the Service answering in its own namespace', async () => {
      const probe = await httpGet(aClient.container, 'web', 8080);
      return probe.code === 0 && /pod-a\n$/.test(probe.output) ? probe : false;
    }, { timeoutMs: 60_000, intervalMs: 1000 });
    expect(viaService.output).toMatch(/^HTTP\/1\.[01] 200/);
    const serviceAddress = /^(\S+)\s+web\s/m.exec((await inPod(aClient.container, 'cat /etc/hosts')).output)?.[1];
    expect(serviceAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // From namespace B: the name is not there, and the address refuses.
    const hosts = await inPod(bClient.container, 'cat /etc/hosts');
    expect(hosts.output).not.toMatch(/\sweb(\s|\.)/);
    expectBlocked(await httpGet(bClient.container, serviceAddress!, 8080));
  });

  test("cannot reach the machine itself: its bridge's gateway address, nor the host's address on another bridge", async () => {
    const { gateway } = await bridgeGateway(nsB);
    const { gateway: otherBridge } = await bridgeGateway(nsA);
    // Positive control: the service answers on those addresses from the machine itself.
    expect(await hostConnects(gateway, hostPort)).toBe(true);
    expect(await hostConnects(otherBridge, hostPort)).toBe(true);
    for (const address of [gateway, otherBridge]) expectBlocked(await tcpConnect(bClient.container, address, hostPort));
  });

  test('cannot reach another network of the machine (a private range)', async () => {
    const info = await outsider.inspect();
    const ip = info.NetworkSettings.Networks.bridge!.IPAddress;
    expect(ip).toMatch(/^172\./);
    // Positive control: the container answers from the machine.
    expect(await hostGet(ip, 8080)).toMatch(/outsider\n$/);
    expectBlocked(await httpGet(bClient.container, ip, 8080));
  });

  test("cannot reach the gateway's admin and kubelet ports", async () => {
    const { gateway } = await bridgeGateway(nsB);
    // Positive control: both answer on that address from the machine.
    expect((await fetch(`http://${gateway}:${adminPort}/readyz`)).ok).toBe(true);
    expect(await hostConnects(dockerBridge, kubeletPort)).toBe(true);
    expectBlocked(await httpGet(bClient.container, gateway, adminPort, '/readyz'));
    expectBlocked(await tcpConnect(bClient.container, dockerBridge, kubeletPort));
  });
});
