// A pod is a stranger's code on a provider's machine: it reaches the pods of its own namespace and
// the internet, and nothing of another namespace, of the machine itself or of the networks around
// it. The provider is a machine of the bed (hack/machines: its own network namespace behind NAT,
// its own Docker engine), its agent joined to a gateway on the cluster's public address. Every case
// is probed from inside a real pod (busybox nc with short timeouts) run by that agent, and each has
// a positive control: the same probe, or the same address from where it is allowed, succeeds, so a
// refusal means isolation and not a broken probe.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { adminKubeConfig, kubectl, uniqueName, waitFor } from '../support/cluster.js';
import { PUBLIC_ADDRESS, connectFrom, createMachine, ensureInternet, removeAllMachines, spawnInMachine, type Machine, type MachineProcess } from '../support/machines.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { BUSYBOX, joinedAgent, onProvider, removeSuiteLeftovers, runAgent, stopAgent, type AgentProcess } from '../support/providers.js';

const run = promisify(execFile);
const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);

const id = uniqueName('iso');
const nsA = `${id}-a`;
const nsB = `${id}-b`;
const gatewayNamespace = `${id}-gw`;
const agent: AgentProcess = { name: `${id}-node`, stateDir: '', output: [] };
/** Where a service of the provider's own listens, on every address of its machine. */
const OWN_PORT = 18082;
let machine: Machine;
let operator: OperatorProcess;
let ownServer: MachineProcess;
/** A server on the internet (the cluster's public address), which pods may reach. */
let internet: net.Server;
let internetPort: number;
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
    const [container] = await machine.docker.listContainers({ filters: { label: [`lattice.dev/pod-uid=${pod.metadata!.uid}`, 'lattice.dev/container=main'] } });
    return container ? { ip: pod.status.podIP, container: container.Id } : false;
  }, { timeoutMs: 90_000 });
}

/** Runs a shell command in a container of the machine's engine; resolves with its exit code and output. */
async function inPod(container: string, command: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('docker', ['-H', `unix://${machine.dockerSocket}`, 'exec', container, 'sh', '-c', command], { timeout: 15_000 });
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

/** The gateway address of a namespace's bridge: the machine, as its pods see it. */
async function bridgeGateway(namespace: string): Promise<{ gateway: string; bridge: string }> {
  const [network] = (await machine.docker.listNetworks({ filters: { label: [`lattice.dev/namespace=${namespace}`] } })) as Docker.NetworkInspectInfo[];
  const info = (await machine.docker.getNetwork(network!.Id).inspect()) as Docker.NetworkInspectInfo;
  return { gateway: info.IPAM!.Config![0]!.Gateway!, bridge: info.Options?.['com.docker.network.bridge.name'] ?? '' };
}

/** What http://host:port/ answers when asked from the machine itself (not from a pod). */
async function machineGet(host: string, port: number): Promise<string> {
  return (await machine.exec(['curl', '-sS', '--max-time', '3', `http://${host}:${port}/`])).stdout;
}

let a: { ip: string; container: string };
let aClient: { ip: string; container: string };
let bClient: { ip: string; container: string };

beforeAll(async () => {
  for (const name of [nsA, nsB, gatewayNamespace]) await core.createNamespace({ body: { metadata: { name } } });
  await ensureInternet();
  machine = await createMachine();
  const grpcPort = await freePort();
  operator = OperatorProcess.start({ identity: 'operator', namespace: gatewayNamespace, watchNamespace: nsA, grpcHost: PUBLIC_ADDRESS, grpcPort, kubeletPort: await freePort() });
  await operator.gatewayListening();
  const token = await createJoinToken(gatewayNamespace, 1);
  Object.assign(agent, await joinedAgent(agent.name, `${PUBLIC_ADDRESS}:${grpcPort}`, token, { cpu: '1', memory: '1Gi', maxPods: 10 }, { machine }));
  runAgent(agent);
  await operator.ready();
  await waitFor(`node ${agent.name} Ready`, async () => (await core.readNode({ name: agent.name }).catch(() => undefined))?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), { timeoutMs: 60_000 });

  // Something of the machine itself, listening on every address (a probe that times out resets its connection).
  ownServer = spawnInMachine(machine, process.execPath, ['-e', `require('node:net').createServer((s) => s.on('error', () => {}).end('own\\n')).listen(${OWN_PORT})`]);
  // A server on the internet.
  internet = net.createServer((socket) => socket.on('error', () => undefined).end('internet\n'));
  internetPort = await freePort();
  await new Promise<void>((resolve) => internet.listen(internetPort, PUBLIC_ADDRESS, resolve));

  await createPod(nsA, 'server', SERVE('pod-a'));
  // A Service of namespace A in front of it (its pods reach it by name, through their agent).
  await core.createNamespacedService({
    namespace: nsA,
    body: { metadata: { name: 'web' }, spec: { selector: { app: 'server' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] } },
  });
  await createPod(nsA, 'client', IDLE);
  await createPod(nsB, 'client', IDLE);
  [a, aClient, bClient] = await Promise.all([runningPod(nsA, 'server'), runningPod(nsA, 'client'), runningPod(nsB, 'client')]);
  // Something on another network of the machine: a container on its engine's default bridge, of
  // the image the agent pulled for the pods.
  outsider = await machine.docker.createContainer({ Image: onProvider(agent, BUSYBOX), Cmd: ['sh', '-c', SERVE('outsider')], Labels: { 'lattice.dev/test': id } });
  await outsider.start();
}, 240_000);

afterAll(async () => {
  internet?.close();
  ownServer?.child.kill('SIGKILL');
  for (const ns of [nsA, nsB]) await kubectl(['delete', 'pods', '--all', '-n', ns, '--grace-period=1', '--wait=true', '--timeout=30s']).catch(() => undefined);
  await operator?.stop();
  await stopAgent(agent);
  await removeSuiteLeftovers({ namespaces: [nsA, nsB], gatewayNamespace, agents: [agent] });
  await removeAllMachines();
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

  test("cannot reach the machine itself: its bridges' gateway addresses, nor its own address", async () => {
    const { gateway } = await bridgeGateway(nsB);
    const { gateway: otherBridge } = await bridgeGateway(nsA);
    // Positive control: the service answers on those addresses from the machine itself.
    await waitFor("the machine's own server", async () => (await connectFrom(machine, machine.address, OWN_PORT)) === 'connected');
    for (const address of [gateway, otherBridge, machine.address]) expect([address, await connectFrom(machine, address, OWN_PORT)]).toEqual([address, 'connected']);
    for (const address of [gateway, otherBridge, machine.address]) expectBlocked(await tcpConnect(bClient.container, address, OWN_PORT));
  });

  test('has no IPv6 to go around the IPv4 rules with: Docker turns it off on the agent\'s IPv4-only networks', async () => {
    expect((await inPod(bClient.container, 'cat /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/eth0/disable_ipv6')).output.trim()).toBe('1\n1');
    expect((await inPod(bClient.container, 'ip -6 addr')).output).not.toMatch(/inet6/);
  });

  test('cannot reach another network of the machine (a private range)', async () => {
    const info = await outsider.inspect();
    const ip = info.NetworkSettings.Networks.bridge!.IPAddress;
    expect(ip).toMatch(/^172\./);
    // Positive control: the container answers from the machine.
    expect(await waitFor('the outsider answering the machine', async () => (await machineGet(ip, 8080)).endsWith('outsider\n') || undefined)).toBe(true);
    expectBlocked(await httpGet(bClient.container, ip, 8080));
  });

  test('reaches the internet, through its machine\'s NAT', async () => {
    const probe = await tcpConnect(bClient.container, PUBLIC_ADDRESS, internetPort);
    expect(probe).toEqual({ code: 0, output: 'internet\n' });
  });
});
