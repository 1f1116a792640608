// Providers on machines of their own: two network namespaces behind NAT, each with its own Docker
// engine (hack/machines), and an agent in each started as a user starts it, with nothing but the
// gateway's public address and a join token. The cluster (apiserver, registry, operator) stays on
// this host's loopback, which the machines cannot reach: Lattice's images and the tenants' come
// to them through their gateway connection, Docker Hub's from the public registry mirror, and a
// build from a Git host on the internet is pushed and pulled through those connections too.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import Docker from 'dockerode';
import { stringify as toYaml } from 'yaml';
import { dockerfileApp } from '../support/build-samples.js';
import { adminKubeConfig, kubectl, secretData, stateDir, uniqueName, waitFor } from '../support/cluster.js';
import { createGitCa, startGitServer, type GitCa, type GitServer } from '../support/git-server.js';
import { PUBLIC_ADDRESS, connectFrom, createMachine, ensureInternet, removeAllMachines, spawnInMachine, type Machine, type MachineProcess } from '../support/machines.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { startPrivateRegistry, type PrivateRegistry } from '../support/private-registry.js';
import { REGISTRY, removeSuiteLeftovers } from '../support/providers.js';
import { condition, workloadReader } from '../support/workloads.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const namespace = uniqueName('machines');
const gatewayNamespace = `${namespace}-gw`;
const BASE_DOMAIN = 'lattice.localhost';
const MACHINE_LABEL = 'provider.lattice.dev/machine';
/** On both machines: what a Workload free to run on either selects. */
const BED_LABEL = 'provider.lattice.dev/bed';
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
let git: GitServer;
let gitCa: GitCa;
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

/** A web server: busybox's httpd answering with its pod's name, on `machine` or on either. */
async function applyWeb(name: string, image: string, placement: Machine | { replicas: number }, extra: Record<string, unknown> = {}): Promise<void> {
  const pinned = 'name' in placement;
  const manifest = {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name, namespace },
    spec: {
      image,
      command: ['sh', '-c', 'mkdir -p /tmp/www && echo "hello from $(hostname)" > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'],
      ports: [{ name: 'http', port: 8080, protocol: 'HTTP', expose: 'public' }],
      resources: { cpu: '50m', memory: '32Mi' },
      ...(pinned ? {} : { replicas: placement.replicas }),
      placement: pinned ? { providerSelector: { [MACHINE_LABEL]: placement.name } } : { providerSelector: { [BED_LABEL]: namespace }, spreadAcrossProviders: true },
      ...extra,
    },
  };
  await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
}

/** SQL run by psql inside the server's pod, as the instance's owner with its Secret's password. */
async function psql(instance: string, sql: string): Promise<string> {
  const c = secretData(await core.readNamespacedSecret({ namespace, name: `${instance}-connection` }));
  const script = `PGPASSWORD="$1" psql -h 127.0.0.1 -p "$2" -U "$3" -d "$4" -v ON_ERROR_STOP=1 -qAtc "$5"`;
  const out = await kubectl(['exec', '-n', namespace, `${instance}-0`, '--', 'sh', '-c', script, 'psql', c.password!, c.port!, c.username!, c.dbname!, sql]);
  return out.trim();
}

/** Waits out a pull's or push's progress stream; its errors are in the stream, not thrown. */
async function followed(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  const events = await new Promise<{ error?: string }[]>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => (err ? reject(err) : resolve(out))));
  const failed = events.find((e) => e.error);
  if (failed) throw new Error(failed.error);
}

async function nodeReady(name: string): Promise<boolean> {
  const node = await core.readNode({ name }).catch(() => undefined);
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function startAgent(provider: Provider): void {
  provider.agent = spawnInMachine(provider.machine, process.execPath, [...AGENT, 'run'], { GIT_SSL_CAINFO: gitCa.caFile });
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
  const machines = await Promise.all([createMachine(), createMachine()]);
  // A Git host on the internet (the public address), whose CA the agents trust as a provider trusts a company CA.
  gitCa = await createGitCa();
  git = await startGitServer({ username: 'u', password: 'p' }, { host: PUBLIC_ADDRESS, ca: gitCa });
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
    extra: [
      ...['--ingress-base-domain', BASE_DOMAIN, '--ingress-address', '127.0.0.1', '--ingress-port', String(ingressPort)],
      // Builds small enough for these machines' offers beside their other pods.
      ...['--build-cpu', '200m', '--build-memory', '256Mi'],
      // PostgreSQL on the first machine, the one whose link is cut below.
      ...['--postgres-provider-selector', `${MACHINE_LABEL}=${machines[0]!.name}`],
    ],
  });
  await operator.ready();
  await operator.gatewayListening();
  ca = secretData(await core.readNamespacedSecret({ name: 'lattice-gateway-ca', namespace: gatewayNamespace }))['tls.crt']!;

  for (const machine of machines) {
    const provider: Provider = { machine, node: `${namespace}-${machine.name}` };
    providers.push(provider);
    // As a user does: a label for this suite's placement, then join with the address and a token.
    const stateDirOf = path.join(machine.home, '.lattice-agent');
    await mkdir(stateDirOf, { recursive: true, mode: 0o700 });
    await writeFile(path.join(stateDirOf, 'config.yaml'), toYaml({ labels: { [MACHINE_LABEL]: machine.name, [BED_LABEL]: namespace } }), { mode: 0o600 });
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
  await git?.close();
  if (gitCa) await rm(path.dirname(gitCa.caFile), { recursive: true, force: true });
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
    const running = async (docker: Docker, node: string) =>
      docker.listContainers({ filters: { label: [`lattice.dev/node=${node}`, `lattice.dev/pod-namespace=${namespace}`, 'lattice.dev/container=app'] } });
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

describe('across machines', () => {
  test("a pod on one machine reaches a Service whose pod runs on the other, through the gateway's relay", async () => {
    const pod = await kubectl(['get', 'pods', '-n', namespace, '-l', 'lattice.dev/workload=relayed', '-o', 'jsonpath={.items[0].metadata.name}']);
    const answer = await waitFor('hub answering by its Service name from the other machine', async () => {
      // (This busybox's wget crashes with its own -T: the timeout applet bounds it.)
      const out = await kubectl(['exec', '-n', namespace, pod, '--', 'sh', '-c', 'timeout 5 wget -qO- http://hub:8080/ 2>&1; true']);
      if (out.includes('hello from hub-')) return out;
      throw new Error(out);
    });
    expect(answer).toMatch(/hello from hub-/);
  });
});

describe('a Workload whose image is in a private registry on the internet', () => {
  const credentials = { username: 'acme-deploy', password: 'pr1vate-never-logged' };
  let registry: PrivateRegistry;
  let image: string;

  beforeAll(async () => {
    registry = await startPrivateRegistry(credentials);
    // The tenant's image, pushed by one machine's engine and then removed there: the other pulls it.
    image = `${registry.address}/acme/web:1`;
    const pusher = agentOf(0).machine.docker;
    await followed(pusher, await pusher.pull('busybox:1.36'));
    await pusher.getImage('busybox:1.36').tag({ repo: `${registry.address}/acme/web`, tag: '1' });
    await followed(pusher, await pusher.getImage(image).push({ authconfig: { ...credentials, serveraddress: registry.address } }));
    await pusher.getImage(image).remove();
  }, 120_000);
  afterAll(async () => registry?.close());

  const podOf = async (name: string) => (await core.listNamespacedPod({ namespace, labelSelector: `lattice.dev/workload=${name}` })).items.find((p) => !p.metadata?.deletionTimestamp);

  test('is refused without pull credentials, saying so, and runs with a docker-registry Secret; a broken Secret beside it is named and breaks nothing', async () => {
    const machine = agentOf(1).machine;
    await applyWeb('private', image, machine);
    const waiting = await waitFor('the pull refused for want of credentials', async () => {
      const state = (await podOf('private'))?.status?.containerStatuses?.[0]?.state?.waiting;
      return state?.reason === 'ErrImagePull' || state?.reason === 'ImagePullBackOff' ? state : undefined;
    });
    expect(waiting.message).toMatch(/no basic auth credentials|unauthorized|authentication required/i);

    // As a user does: kubectl's docker-registry Secret; and, listed first, one whose JSON is broken.
    await kubectl(['create', 'secret', 'docker-registry', 'regcred', '-n', namespace, `--docker-server=${registry.address}`, `--docker-username=${credentials.username}`, `--docker-password=${credentials.password}`]);
    await kubectl(['create', 'secret', 'generic', 'broken', '-n', namespace, '--from-literal=.dockerconfigjson={"auths": {']);
    await applyWeb('private', image, machine, { imagePullSecrets: [{ name: 'broken' }, { name: 'regcred' }] });
    await waitForStatus('private', 'Ready', (w) => condition(w, 'Ready')?.status === 'True');
    const pod = (await podOf('private'))!;
    expect(pod.spec?.nodeName).toBe(agentOf(1).node);
    expect(await kubectl(['exec', '-n', namespace, pod.metadata!.name!, '--', 'cat', '/tmp/www/index.html'])).toBe(`hello from ${pod.metadata!.name}\n`);

    // The broken one is named on the pod, as the kubelet names it, and the operator is still up.
    const events = await core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${pod.metadata!.name},reason=FailedToRetrieveImagePullSecret` });
    expect(events.items.map((e) => e.message)).toContainEqual(expect.stringContaining('Secret "broken" has a .dockerconfigjson that is not JSON'));
    expect(operator.child.exitCode).toBeNull();
    // The password went to the engine, and to no log.
    expect(operator.output.join('\n')).not.toContain(credentials.password);
    for (const p of providers) expect(p.agent!.output.join('')).not.toContain(credentials.password);
    await kubectl(['delete', 'workload', 'private', '-n', namespace]);
  }, 240_000);
});

describe('a Workload built from Git', () => {
  test('is built on a machine from a Git host on the internet, pushed through its gateway connection, and pulled by the other machine the same way', async () => {
    const message = `built on the bed ${namespace}`;
    // FROM Docker Hub's busybox, as a user writes it: the building machine's engine pulls it from its mirror.
    await git.commit('bed-app', dockerfileApp(message, 8080, 'busybox:1.36'));
    const manifest = {
      apiVersion: 'lattice.dev/v1alpha1',
      kind: 'Workload',
      metadata: { name: 'built', namespace },
      spec: {
        source: { url: `${git.url}/bed-app.git`, ref: 'main' },
        build: { strategy: 'dockerfile' },
        replicas: 2,
        ports: [{ name: 'http', port: 8080, protocol: 'HTTP', expose: 'public' }],
        resources: { cpu: '50m', memory: '32Mi' },
        placement: { providerSelector: { [BED_LABEL]: namespace }, spreadAcrossProviders: true },
      },
    };
    await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
    const wl = await waitForStatus('built', 'Running on both machines', (w) => w.status?.phase === 'Running' && w.status.readyReplicas === 2, 240_000);
    expect([...(wl.status?.nodes ?? [])].sort()).toEqual(providers.map((p) => p.node).sort());
    const answer = await waitFor('the built app answering at its public URL', async () => {
      const res = await get(wl.status!.endpoints![0]!.url);
      return res.status === 200 ? res : undefined;
    });
    expect(answer.body.trim()).toBe(message);
    // Each machine's engine holds the build under its relay's name, and runs one replica of it.
    for (const { machine, node } of providers) {
      const built = (await machine.docker.listImages()).flatMap((i) => [...(i.RepoTags ?? []), ...(i.RepoDigests ?? [])]);
      expect([node, built.some((ref) => ref.startsWith(`127.0.0.1:15001/builds/${namespace}/built`))]).toEqual([node, true]);
      const replicas = await machine.docker.listContainers({ filters: { label: [`lattice.dev/node=${node}`, `lattice.dev/pod-namespace=${namespace}`, 'lattice.dev/container=app'] } });
      expect(replicas.filter((c) => c.Labels['lattice.dev/pod-name']?.startsWith('built-'))).toHaveLength(1);
    }
    await kubectl(['delete', 'workload', 'built', '-n', namespace]);
  }, 300_000);
});

describe('a machine cut off and back', () => {
  test("its replicas are Ready on the other machine within a minute; back, it runs none of them, and its database kept its data", async () => {
    const [cutOff, other] = [agentOf(0), agentOf(1)];
    await applyWeb('mover', `${REGISTRY}/lattice/busybox:1`, { replicas: 2 });
    const before = await waitForStatus('mover', 'Ready on both machines', (w) => condition(w, 'Ready')?.status === 'True' && w.status?.nodes?.length === 2);
    expect(before.status?.nodes?.sort()).toEqual([cutOff.node, other.node].sort());
    await kubectl(['apply', '--server-side', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'lattice.dev/v1alpha1',
        kind: 'PostgresInstance',
        metadata: { name: 'db', namespace },
        spec: { version: '15', database: 'app', owner: 'app', storage: { size: '1Gi' }, resources: { cpu: '250m', memory: '256Mi' } },
      }),
    });
    await waitFor('PostgresInstance db Ready', async () => (await kubectl(['get', 'postgresinstance', 'db', '-n', namespace, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])) === 'True', { timeoutMs: 120_000 });
    expect(await kubectl(['get', 'pod', 'db-0', '-n', namespace, '-o', 'jsonpath={.spec.nodeName}'])).toBe(cutOff.node);
    await psql('db', "CREATE TABLE notes (body text); INSERT INTO notes VALUES ('written before the cut')");

    const cut = Date.now();
    await cutOff.machine.setLink('down');
    await waitFor(`node ${cutOff.node} NotReady`, async () => !(await nodeReady(cutOff.node)), { timeoutMs: 30_000, intervalMs: 250 });
    const notReady = Date.now() - cut;
    await waitForStatus('mover', 'Ready again, on the other machine only', (w) => condition(w, 'Ready')?.status === 'True' && w.status?.readyReplicas === 2 && w.status.nodes?.join() === other.node, 90_000);
    const moved = Date.now() - cut;
    console.log(`link cut: Node NotReady after ${(notReady / 1000).toFixed(1)} s, replicas Ready elsewhere after ${(moved / 1000).toFixed(1)} s`);
    // The gateway's keepalive finds the cut within 5 s, then the disconnect grace (2 s here).
    expect(notReady).toBeLessThan(10_000);
    expect(moved).toBeLessThan(60_000);

    const back = Date.now();
    await cutOff.machine.setLink('up');
    await waitFor(`node ${cutOff.node} Ready again`, () => nodeReady(cutOff.node), { timeoutMs: 30_000, intervalMs: 250 });
    console.log(`link back: Node Ready after ${((Date.now() - back) / 1000).toFixed(1)} s`);
    // The pods that moved are stopped where they were: no replica runs twice.
    const movers = (docker: Docker) => docker.listContainers({ filters: { label: [`lattice.dev/pod-namespace=${namespace}`, 'lattice.dev/container=app'] } });
    await waitFor('no mover left running on the machine that was cut off', async () => (await movers(cutOff.machine.docker)).every((c) => !c.Labels['lattice.dev/pod-name']!.startsWith('mover-')));
    expect((await movers(other.machine.docker)).filter((c) => c.Labels['lattice.dev/pod-name']!.startsWith('mover-'))).toHaveLength(2);
    expect(await waitFor('the database answering again', () => psql('db', 'SELECT body FROM notes').catch(() => undefined), { timeoutMs: 120_000 })).toBe('written before the cut');
  }, 300_000);
});
