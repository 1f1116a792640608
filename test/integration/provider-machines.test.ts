// Providers on machines of their own: two network namespaces behind NAT, each with its own Docker
// engine (hack/machines), and an agent in each started as a user starts it, with nothing but the
// gateway's public address and a join token. The cluster (apiserver, registry, operator) stays on
// this host's loopback, which the machines cannot reach: Lattice's images and the tenants' come
// to them through their gateway connection, Docker Hub's from the public registry mirror.
import { mkdir, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import Docker from 'dockerode';
import { stringify as toYaml } from 'yaml';
import { adminKubeConfig, kubectl, secretData, stateDir, uniqueName, waitFor } from '../support/cluster.js';
import { PUBLIC_ADDRESS, connectFrom, createMachine, ensureInternet, removeAllMachines, spawnInMachine, type Machine, type MachineProcess } from '../support/machines.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { REGISTRY, removeSuiteLeftovers } from '../support/providers.js';
import { condition, workloadReader } from '../support/workloads.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const namespace = uniqueName('machines');
const gatewayNamespace = `${namespace}-gw`;
const BASE_DOMAIN = 'lattice.localhost';
const MACHINE_LABEL = 'provider.lattice.dev/machine';
const DISCONNECT_GRACE_SECONDS = 2;
const { waitForStatus } = workloadReader(kc, namespace, { timeoutMs: 120_000, intervalMs: 500 });

interface Provider {
  machine: Machine;
  node: string;
  agent?: MachineProcess;
}
const providers: Provider[] = [];
let operator: OperatorProcess;
let ingressPort: number;
let ca: string;

const AGENT = ['--import', 'tsx', 'agent/src/cli.ts'];
const agentOf = (i: number) => providers[i]!;

/** Every public name resolves to the ingress on this host's loopback, as a wildcard record would. */
const loopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) (callback as (err: null, addresses: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(null, '127.0.0.1', 4);
};

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, lookup: loopback, agent: false }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** A web server on one machine: busybox's httpd answering with its pod's name. */
async function applyWeb(name: string, image: string, machine: Machine): Promise<void> {
  const manifest = {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name, namespace },
    spec: {
      image,
      command: ['sh', '-c', 'mkdir -p /tmp/www && echo "hello from $(hostname)" > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'],
      ports: [{ name: 'http', port: 8080, protocol: 'HTTP', expose: 'public' }],
      resources: { cpu: '50m', memory: '32Mi' },
      placement: { providerSelector: { [MACHINE_LABEL]: machine.name } },
    },
  };
  await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
}

async function nodeReady(name: string): Promise<boolean> {
  const node = await core.readNode({ name }).catch(() => undefined);
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function startAgent(provider: Provider): void {
  provider.agent = spawnInMachine(provider.machine, process.execPath, [...AGENT, 'run']);
}

async function stopAgent(provider: Provider): Promise<void> {
  const child = provider.agent?.child;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await provider.agent!.done;
}

async function saveLogs(): Promise<void> {
  const file = path.join(stateDir, 'logs', 'provider-machines.log');
  await mkdir(path.dirname(file), { recursive: true });
  const agents = providers.map((p) => `--- agent ${p.node}\n${p.agent?.output.join('') ?? ''}`);
  await writeFile(file, [`--- operator\n${operator?.output.join('\n') ?? ''}`, ...agents].join('\n'));
}

beforeAll(async () => {
  await kubectl(['create', 'namespace', namespace]);
  await kubectl(['create', 'namespace', gatewayNamespace]);
  // The cluster's public address must exist before the gateway binds it.
  await ensureInternet();
  const [grpcPort, kubeletPort] = [await freePort(), await freePort()];
  ingressPort = await freePort();
  operator = OperatorProcess.start({
    identity: 'machines',
    namespace: gatewayNamespace,
    watchNamespace: namespace,
    // The gateway on the cluster's public address, the only one of this host the machines reach.
    grpcHost: PUBLIC_ADDRESS,
    grpcPort,
    kubeletPort,
    disconnectGraceSeconds: DISCONNECT_GRACE_SECONDS,
    providerLossTimeoutSeconds: 20,
    extra: ['--ingress-base-domain', BASE_DOMAIN, '--ingress-address', '127.0.0.1', '--ingress-port', String(ingressPort)],
  });
  await operator.ready();
  await operator.gatewayListening();
  ca = secretData(await core.readNamespacedSecret({ name: 'lattice-gateway-ca', namespace: gatewayNamespace }))['tls.crt']!;

  const machines = await Promise.all([createMachine(), createMachine()]);
  for (const machine of machines) {
    const provider: Provider = { machine, node: `${namespace}-${machine.name}` };
    providers.push(provider);
    // As a user does: a label for this suite's placement, then join with the address and a token.
    const stateDirOf = path.join(machine.home, '.lattice-agent');
    await mkdir(stateDirOf, { recursive: true, mode: 0o700 });
    await writeFile(path.join(stateDirOf, 'config.yaml'), toYaml({ labels: { [MACHINE_LABEL]: machine.name } }), { mode: 0o600 });
    const token = await createJoinToken(gatewayNamespace);
    const join = spawnInMachine(machine, process.execPath, [
      ...AGENT,
      ...['join', '--gateway', `${PUBLIC_ADDRESS}:${grpcPort}`, '--token', token, '--name', provider.node, '--cpu', '1', '--memory', '1Gi'],
    ]);
    const code = await join.done;
    if (code !== 0) throw new Error(`lattice-agent join on ${machine.name} failed (${code}): ${join.output.join('')}`);
    startAgent(provider);
  }
}, 240_000);

afterAll(async () => {
  await saveLogs().catch(() => undefined);
  for (const provider of providers) await stopAgent(provider).catch(() => undefined);
  await operator?.stop();
  await removeAllMachines();
  await removeSuiteLeftovers({ namespaces: [namespace], gatewayNamespace, agents: providers.map((p) => ({ name: p.node, stateDir: '', output: [] })) });
}, 180_000);

describe('providers on machines of their own', () => {
  test('a machine joins with only the gateway address and a token, and its Node is Ready', async () => {
    for (const { node } of providers) await waitFor(`node ${node} Ready`, () => nodeReady(node), { timeoutMs: 60_000 });
  });

  test("a machine reaches the gateway, and neither the cluster's loopback nor its registry", async () => {
    const { machine } = agentOf(0);
    expect(await connectFrom(machine, '127.0.0.1', 6443)).not.toBe('connected');
    expect(await connectFrom(machine, machine.gateway, 6443)).not.toBe('connected');
    expect(await connectFrom(machine, machine.gateway, 5001)).not.toBe('connected');
  });

  test("a Workload on each machine is Ready and answers at its public URL: Lattice's image through the gateway, Docker Hub's from the mirror", async () => {
    const [first, second] = [agentOf(0), agentOf(1)];
    await applyWeb('relayed', `${REGISTRY}/lattice/busybox:1`, first.machine);
    await applyWeb('hub', 'busybox:1.36', second.machine);
    for (const [name, provider] of [['relayed', first], ['hub', second]] as const) {
      const wl = await waitForStatus(name, 'Ready with its URL', (w) => condition(w, 'Ready')?.status === 'True' && !!w.status?.endpoints?.length);
      expect(wl.status?.nodes).toEqual([provider.node]);
      const url = wl.status!.endpoints![0]!.url;
      const answer = await waitFor(`${url} answering`, async () => {
        const res = await get(url);
        return res.status === 200 ? res : undefined;
      });
      expect(answer.body).toMatch(new RegExp(`^hello from ${name}-`));
    }
  });

  test("each machine's engine runs its own pods, and holds the cluster's images under its relay's name", async () => {
    const [first, second] = [agentOf(0), agentOf(1)];
    const running = async (docker: Docker, node: string) => docker.listContainers({ filters: { label: [`lattice.dev/node=${node}`, 'lattice.dev/container=app'] } });
    expect(await running(first.machine.docker, first.node)).toHaveLength(1);
    expect(await running(second.machine.docker, second.node)).toHaveLength(1);
    expect(await running(new Docker(), first.node)).toHaveLength(0);
    const images = (await first.machine.docker.listImages()).flatMap((i) => i.RepoTags ?? []);
    expect(images).toContain('127.0.0.1:15001/lattice/busybox:1');
    expect(images.some((t) => t.startsWith(`${REGISTRY}/`))).toBe(false);
  });

  test('kubectl logs and exec reach a pod on a machine', async () => {
    const pod = await kubectl(['get', 'pods', '-n', namespace, '-l', 'lattice.dev/workload=relayed', '-o', 'jsonpath={.items[0].metadata.name}']);
    const page = await kubectl(['exec', '-n', namespace, pod, '--', 'cat', '/tmp/www/index.html']);
    expect(page.trim()).toBe(`hello from ${pod}`);
    await expect(kubectl(['logs', '-n', namespace, pod])).resolves.toBeDefined();
  });
});

describe('a machine cut off and back', () => {
  test('its Node is NotReady soon after its link goes down, and Ready again, with the same containers, when it is back', async () => {
    const provider = agentOf(0);
    const before = (await provider.machine.docker.listContainers({ filters: { label: [`lattice.dev/node=${provider.node}`] } })).map((c) => c.Id).sort();
    const cut = Date.now();
    await provider.machine.setLink('down');
    await waitFor(`node ${provider.node} NotReady`, async () => !(await nodeReady(provider.node)), { timeoutMs: 30_000, intervalMs: 250 });
    const notReadyAfter = Date.now() - cut;
    console.log(`link cut -> Node NotReady in ${(notReadyAfter / 1000).toFixed(1)} s (disconnect grace ${DISCONNECT_GRACE_SECONDS} s)`);
    expect(notReadyAfter).toBeLessThan(20_000);

    const back = Date.now();
    await provider.machine.setLink('up');
    await waitFor(`node ${provider.node} Ready again`, () => nodeReady(provider.node), { timeoutMs: 30_000, intervalMs: 250 });
    console.log(`link back -> Node Ready in ${((Date.now() - back) / 1000).toFixed(1)} s`);
    const after = (await provider.machine.docker.listContainers({ filters: { label: [`lattice.dev/node=${provider.node}`] } })).map((c) => c.Id).sort();
    expect(after).toEqual(before);
  });
});
