// `expose: tailnet`, end to end across machines: a real coordination server on the internet
// (headscale, built by hack/build-tools, sqlite, its embedded DERP relay, on the cluster's public
// address), the real operator and a real provider agent on a machine of its own behind NAT running
// the Workload, and a consumer's device on another such machine (another home): a real tailscaled
// in userspace networking mode joined to the same tailnet, reaching the Workload's port through its
// SOCKS5 proxy, at the address the Workload's status shows.
//
// Both tailnet nodes relay through the DERP server over plain HTTP (the TS_* knobs below, the ones
// Tailscale's own integration tests use) instead of finding direct paths (the machines' NAT lets
// no connection in, as many homes' do), and probe nothing else (no port mapping on the router, the
// captive-portal check against headscale, never Tailscale's own control server).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, binDir, kubectl, repoRoot, uniqueName, waitFor } from '../support/cluster.js';
import { condition, workloadReader } from '../support/workloads.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { PUBLIC_ADDRESS, createMachine, ensureInternet, removeAllMachines, spawnInMachine, type Machine, type MachineProcess } from '../support/machines.js';
import { BUSYBOX, joinedAgent, removeSuiteLeftovers, runAgent, stopAgent, type AgentProcess } from '../support/providers.js';

const run = promisify(execFile);
const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);

const namespace = uniqueName('tailnet');
const gatewayNamespace = `${namespace}-gw`;
const RUN_LABEL = 'provider.lattice.dev/e2e-run';
const { getWorkload, waitForStatus } = workloadReader(kc, namespace, { timeoutMs: 90_000, intervalMs: 500 });
const agent: AgentProcess = { name: `${namespace}-node`, stateDir: '', output: [] };
let operator: OperatorProcess;
let workDir: string;
let headscale: ChildProcess;
let headscaleUrl: string;
/** The provider's machine, and the consumer's device with its tailscaled. */
let provider: Machine;
let device: Machine;
let consumer: MachineProcess;
const SOCKS_PORT = 1080;
/** Where a service of the provider's own listens, on every address of its machine. */
const OWN_PORT = 18081;
const logs: string[] = [];

// The agent (and the lattice-tailnet nodes it starts) and the consumer's tailscaled inherit these.
const tailnetEnv = () => ({
  TS_DEBUG_USE_DERP_HTTP: 'true',
  TS_DEBUG_ALWAYS_USE_DERP: 'true',
  TS_DISABLE_PORTMAPPER: '1',
  TS_PANIC_IF_HIT_MAIN_CONTROL: '1',
  TS_NETCHECK_GENERATE_204_URL: `${headscaleUrl}/generate_204`,
});

function startLogged(name: string, command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { env: { ...process.env, ...tailnetEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (d: Buffer) => logs.push(`[${name}] ${d.toString()}`);
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function headscaleCli(...args: string[]): Promise<string> {
  const { stdout } = await run(path.join(binDir, 'headscale'), ['-c', path.join(workDir, 'headscale.yaml'), ...args]);
  return stdout;
}

async function startHeadscale(): Promise<void> {
  const headscalePort = await freePort();
  headscaleUrl = `http://${PUBLIC_ADDRESS}:${headscalePort}`;
  const [metricsPort, grpcPort, stunPort] = [await freePort(), await freePort(), await freePort()];
  const config = {
    server_url: headscaleUrl,
    listen_addr: `${PUBLIC_ADDRESS}:${headscalePort}`,
    metrics_listen_addr: `127.0.0.1:${metricsPort}`,
    grpc_listen_addr: `127.0.0.1:${grpcPort}`,
    noise: { private_key_path: path.join(workDir, 'noise.key') },
    prefixes: { v4: '100.64.0.0/10', allocation: 'sequential' },
    derp: {
      server: {
        enabled: true,
        region_id: 999,
        region_code: 'internet',
        region_name: 'The bed internet DERP',
        stun_listen_addr: `${PUBLIC_ADDRESS}:${stunPort}`,
        private_key_path: path.join(workDir, 'derp.key'),
        automatically_add_embedded_derp_region: true,
        ipv4: PUBLIC_ADDRESS,
      },
      urls: [],
      paths: [],
      auto_update_enabled: false,
    },
    disable_check_updates: true,
    database: { type: 'sqlite', sqlite: { path: path.join(workDir, 'headscale.sqlite') } },
    policy: { mode: 'database' },
    dns: { magic_dns: true, base_domain: 'tailnet.test', override_local_dns: false, nameservers: { global: [] } },
    unix_socket: path.join(workDir, 'headscale.sock'),
    unix_socket_permission: '0770',
    logtail: { enabled: false },
  };
  // JSON is YAML.
  await writeFile(path.join(workDir, 'headscale.yaml'), JSON.stringify(config));
  headscale = startLogged('headscale', path.join(binDir, 'headscale'), ['serve', '-c', path.join(workDir, 'headscale.yaml')]);
  await waitFor('headscale answering', async () => (await fetch(`${headscaleUrl}/health`)).ok, { timeoutMs: 30_000 });
}

/** A reusable, pre-approved auth key of a new tailnet user. */
async function authKey(): Promise<string> {
  await headscaleCli('users', 'create', 'consumer');
  const users = JSON.parse(await headscaleCli('users', 'list', '-o', 'json')) as { id: number; name: string }[];
  const user = users.find((u) => u.name === 'consumer')!;
  const key = (await headscaleCli('preauthkeys', 'create', '--user', String(user.id), '--reusable', '--expiration', '1h')).trim().split('\n').at(-1)!;
  expect(key).toMatch(/^\S{20,}$/);
  return key;
}

/** The consumer's device: tailscaled without root or TUN, with a SOCKS5 proxy into the tailnet on the device's loopback. */
async function startConsumer(key: string): Promise<void> {
  const socket = path.join(device.dir, 'tailscaled.sock');
  consumer = spawnInMachine(device, path.join(binDir, 'tailscaled'), [
    '--tun=userspace-networking',
    `--statedir=${path.join(device.dir, 'tailscale')}`,
    `--socket=${socket}`,
    '--port=0',
    `--socks5-server=127.0.0.1:${SOCKS_PORT}`,
    '--no-logs-no-support',
  ]);
  const tailscale = path.join(binDir, 'tailscale');
  await waitFor('consumer tailscaled answering', async () => (await device.exec([tailscale, `--socket=${socket}`, 'status', '--json'])).code === 0, { timeoutMs: 30_000 });
  const up = await device.exec([tailscale, `--socket=${socket}`, 'up', `--login-server=${headscaleUrl}`, `--authkey=${key}`, '--hostname=consumer', '--timeout=60s'], { timeoutMs: 90_000 });
  if (up.code !== 0) throw new Error(`tailscale up on the consumer's device failed (${up.code}): ${up.stderr}`);
}

/**
 * What http://host:port/ answers on the consumer's device, through its tailscaled's SOCKS5 proxy;
 * rejects with curl's error when the tailnet refuses the connection.
 */
async function throughTailnet(host: string, port: number): Promise<string> {
  const result = await device.exec(['curl', '-sS', '--max-time', '15', '--socks5', `127.0.0.1:${SOCKS_PORT}`, `http://${host}:${port}/`], { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`curl through the tailnet to ${host}:${port} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

beforeAll(async () => {
  workDir = await mkdtemp(path.join(os.tmpdir(), 'lattice-tailnet-'));
  await ensureInternet();
  [provider, device] = await Promise.all([createMachine(), createMachine()]);
  await startHeadscale();
  Object.assign(process.env, tailnetEnv(), { PATH: `${binDir}${path.delimiter}${process.env.PATH}` });
  const key = await authKey();

  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'tailnet' }, stringData: { loginServer: headscaleUrl, authKey: key } } });
  const grpcPort = await freePort();
  operator = OperatorProcess.start({ identity: 'operator', namespace: gatewayNamespace, watchNamespace: namespace, grpcHost: PUBLIC_ADDRESS, grpcPort, kubeletPort: await freePort() });
  await operator.gatewayListening();
  const token = await createJoinToken(gatewayNamespace, 1);
  Object.assign(
    agent,
    await joinedAgent(agent.name, `${PUBLIC_ADDRESS}:${grpcPort}`, token, { cpu: '1', memory: '1Gi', maxPods: 10, labels: { [RUN_LABEL]: namespace } }, { machine: provider }),
  );
  runAgent(agent);
  await operator.ready();
  await waitFor(`node ${agent.name} schedulable`, async () => {
    const node = await core.readNode({ name: agent.name }).catch(() => undefined);
    const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    return ready && !node?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
  }, { timeoutMs: 60_000 });
  await startConsumer(key);
}, 180_000);

afterAll(async () => {
  const consumerLog = consumer ? [`[tailscaled] ${consumer.output.join('')}`] : [];
  await writeFile(path.join(repoRoot, '.lattice', 'logs', 'tailnet.log'), [...logs, ...consumerLog, ...agent.output, ...(operator?.output ?? [])].join('\n')).catch(() => undefined);
  await kubectl(['delete', 'pods', '--all', '-n', namespace, '--grace-period=1', '--wait=true', '--timeout=30s']).catch(() => undefined);
  await operator?.stop();
  await stopAgent(agent);
  await stop(consumer?.child);
  await stop(headscale);
  await removeSuiteLeftovers({ namespaces: [namespace], gatewayNamespace, agents: [agent] });
  await removeAllMachines();
  if (workDir) await rm(workDir, { recursive: true, force: true });
}, 120_000);

describe('a Workload port with expose: tailnet', () => {
  test('is refused without the Secret that joins the tailnet', async () => {
    const manifest = {
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'Workload',
      metadata: { name: 'no-secret', namespace },
      spec: { image: BUSYBOX, ports: [{ name: 'web', port: 8080, expose: 'tailnet' }] },
    };
    await expect(kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) })).rejects.toThrow(/spec.tailnet.authKeySecretRef/);
  });

  test("is reachable from the consumer's tailnet at the address in status.endpoints, and nothing else of the provider is", async () => {
    const manifest = {
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'Workload',
      metadata: { name: 'web', namespace },
      spec: {
        image: BUSYBOX,
        // A shell as PID 1 ignores SIGTERM unless trapped: the replica stops at once when scaled down.
        command: ['sh', '-c', "trap 'exit 0' TERM; mkdir -p /tmp/w && echo hello from the tailnet > /tmp/w/index.html && httpd -f -p 8080 -h /tmp/w & wait"],
        resources: { cpu: '50m', memory: '32Mi' },
        ports: [
          { name: 'web', port: 8080, protocol: 'TCP', expose: 'tailnet' },
          { name: 'internal', port: 9090, protocol: 'TCP' },
        ],
        tailnet: { authKeySecretRef: { name: 'tailnet' } },
        placement: { providerSelector: { [RUN_LABEL]: namespace } },
      },
    };
    await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });

    const wl = await waitForStatus('web', 'a tailnet endpoint', (w) =>
      condition(w, 'Ready')?.status === 'True' && (w.status?.endpoints ?? []).some((e) => /^tcp:\/\/100\.\d+\.\d+\.\d+:8080$/.test(e.url)),
    );
    const endpoints = Object.fromEntries((wl.status?.endpoints ?? []).map((e) => [e.port, e.url]));
    expect(endpoints.internal).toBe(`tcp://web.${namespace}.svc:9090`);
    const address = /^tcp:\/\/([\d.]+):8080$/.exec(endpoints.web!)![1]!;

    const response = await waitFor('the port through the tailnet', () => throughTailnet(address, 8080), { timeoutMs: 60_000, intervalMs: 1000 });
    expect(response).toBe('hello from the tailnet\n');

    // A port that is not exposed, and the provider's own services (one listening on every address
    // of its machine, loopback too), are refused: the tailnet node answers only its ports.
    await expect(throughTailnet(address, 9090)).rejects.toThrow(/SOCKS5/);
    const own = spawnInMachine(provider, process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('the provider own')).listen(${OWN_PORT})`]);
    try {
      await waitFor("the provider's own server", async () => (await provider.exec(['curl', '-fsS', '--max-time', '2', `http://127.0.0.1:${OWN_PORT}/`])).stdout === 'the provider own');
      await expect(throughTailnet(address, OWN_PORT)).rejects.toThrow(/SOCKS5/);
    } finally {
      own.child.kill('SIGKILL');
    }

    const pod = (await core.listNamespacedPod({ namespace, labelSelector: 'lattice.dev/workload=web' })).items[0]!;
    expect(pod.metadata?.annotations?.['lattice.dev/tailnet-address']).toBe(address);
    // The gateway records the agent's event on its own, not before the status that was waited for.
    const events = await waitFor('the TailnetJoined event', async () => {
      const list = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${pod.metadata!.name}` });
      return list.items.some((e) => e.reason === 'TailnetJoined') ? list : undefined;
    }, { timeoutMs: 15_000 });
    expect(events.items.map((e) => e.reason)).toContain('TailnetJoined');
    // The auth key is a secret: it is in no event and no log line of the agent or operator.
    const key = (await core.readNamespacedSecret({ name: 'tailnet', namespace })).data!.authKey!;
    const plain = Buffer.from(key, 'base64').toString();
    expect(events.items.map((e) => e.message).join('\n')).not.toContain(plain);
    expect([...agent.output, ...operator.output].join('\n')).not.toContain(plain);
  });

  test('shows up in the agent metrics', async () => {
    const admin = /"admin":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(agent.output.join(''))?.[1];
    expect(admin).toBeDefined();
    // The admin API listens on the provider machine's loopback.
    const metrics = (await provider.exec(['curl', '-fsS', '--max-time', '5', `${admin}/metrics`])).stdout;
    expect(metrics).toMatch(/^lattice_agent_tailnet_up 1$/m);
  });

  test('scaled to zero, the replica leaves the tailnet and the endpoint falls back to the cluster address', async () => {
    const before = (await getWorkload('web')).status!.endpoints!.find((e) => e.port === 'web')!.url;
    const address = /^tcp:\/\/([\d.]+):8080$/.exec(before)![1]!;
    await kubectl(['patch', 'workload', 'web', '-n', namespace, '--type', 'merge', '-p', JSON.stringify({ spec: { replicas: 0 } })]);
    await waitForStatus('web', 'the cluster address again', (w) => (w.status?.endpoints ?? []).some((e) => e.port === 'web' && e.url === `tcp://web.${namespace}.svc:8080`));
    await waitFor('the tailnet node gone', () => throughTailnet(address, 8080).then(() => false, () => true), { timeoutMs: 30_000, intervalMs: 1000 });
  });
});
