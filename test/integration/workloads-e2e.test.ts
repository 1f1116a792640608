// Workloads end to end, as a user lives them: the real operator (controllers + gateway, two
// leader-elected replicas as child processes), two real provider agents (the lattice-agent CLI),
// each on a provider machine of its own behind NAT (hack/machines) with its own Docker engine,
// joined at the gateway's public address with a token from the `lattice` CLI, and the real
// kube-scheduler and controller-manager.
//
// The agents' Nodes carry a label of this run, and every Workload selects it, so other suites'
// nodes and pods are left alone. The tests run in order and share one setup: each leaves the
// Workloads in the state the next one starts from.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { adminKubeConfig, kubectl, stateDir, uniqueName, waitFor } from '../support/cluster.js';
import { PUBLIC_ADDRESS, createMachine, ensureInternet, removeAllMachines } from '../support/machines.js';
import { condition, workloadReader, type StoredWorkload } from '../support/workloads.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { BUSYBOX, engineOf, joinedAgent, runAgent, stopAgent, writeAgentConfig, type AgentOffer, type AgentProcess, removeSuiteLeftovers } from '../support/providers.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);

const run = uniqueName('e2e-wl');
const namespace = run;
const { getWorkload, waitForStatus } = workloadReader(kc, namespace, { timeoutMs: 90_000, intervalMs: 500 });
const gatewayNamespace = `${run}-gw`;
const RUN_LABEL = 'provider.lattice.dev/e2e-run';
const PROVIDER_LOSS_SECONDS = 20;
const DISCONNECT_GRACE_SECONDS = 3;
const LEASE = 'lattice-operator';

const offer = (cpu: string): AgentOffer => ({ cpu, memory: '1Gi', maxPods: 20, labels: { [RUN_LABEL]: run } });
const alpha: AgentProcess = { name: `${run}-alpha`, stateDir: '', output: [] };
const beta: AgentProcess = { name: `${run}-beta`, stateDir: '', output: [] };
const operators: OperatorProcess[] = [];
let grpcPort: number;
let kubeletPort: number;

// ---------------------------------------------------------------------------------------------
// Workloads, their pods and their containers.

/** A container that stops at once on SIGTERM (a shell as PID 1 ignores it unless trapped). */
const serve = (version: string) => ['sh', '-c', `trap 'exit 0' TERM; echo ${version}; sleep 3600 & wait`];

function workloadSpec(spec: Record<string, unknown>): Record<string, unknown> {
  return { image: BUSYBOX, resources: { cpu: '50m', memory: '32Mi' }, ...spec, placement: { providerSelector: { [RUN_LABEL]: run }, ...(spec.placement as object) } };
}

async function applyWorkload(name: string, spec: Record<string, unknown>): Promise<void> {
  const manifest = { apiVersion: 'lattice.dev/v1alpha1', kind: 'Workload', metadata: { name, namespace }, spec: workloadSpec(spec) };
  await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
}

async function patchWorkload(name: string, spec: Record<string, unknown>): Promise<void> {
  await kubectl(['patch', 'workload', name, '-n', namespace, '--type', 'merge', '-p', JSON.stringify({ spec })]);
}

const readyWith = (n: number) => (wl: StoredWorkload) => condition(wl, 'Ready')?.status === 'True' && wl.status?.readyReplicas === n && wl.status.replicas === n;

const isReady = (pod: k8s.V1Pod) => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const isActive = (pod: k8s.V1Pod) => !pod.metadata?.deletionTimestamp;

async function podsOf(name: string): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `lattice.dev/workload=${name}` })).items;
}

/** Containers of this run's pods on both providers' engines (`all`: stopped ones and sandboxes too). */
async function namespaceContainers(filters: { all?: boolean; labels?: string[] } = {}): Promise<Docker.ContainerInfo[]> {
  const label = [`lattice.dev/pod-namespace=${namespace}`, ...(filters.labels ?? [])];
  return (await Promise.all([alpha, beta].map((a) => engineOf(a).listContainers({ all: filters.all, filters: { label } })))).flat();
}

/** Running app containers (sandboxes left out) of this run's pods. */
const appContainers = () => namespaceContainers({ labels: ['lattice.dev/container=app'] });

/** The engine a container of this run is on: its node's. */
const engineWith = (c: Docker.ContainerInfo): Docker => engineOf(c.Labels['lattice.dev/node'] === alpha.name ? alpha : beta);

/** The running app containers of a Workload's active pods; each pod must have exactly one. */
async function containersOf(name: string): Promise<Docker.ContainerInfo[]> {
  const uids = new Set((await podsOf(name)).filter(isActive).map((p) => p.metadata!.uid!));
  return (await appContainers()).filter((c) => uids.has(c.Labels['lattice.dev/pod-uid']!));
}

/** Every running app container belongs to an active pod, and every active, bound pod has exactly one. */
async function containersMatchPods(): Promise<true> {
  const pods = (await core.listNamespacedPod({ namespace })).items.filter((p) => isActive(p) && p.spec?.nodeName);
  const containers = await appContainers();
  const byPod = new Map<string, number>();
  for (const c of containers) byPod.set(c.Labels['lattice.dev/pod-uid']!, (byPod.get(c.Labels['lattice.dev/pod-uid']!) ?? 0) + 1);
  const problems = [
    ...pods.filter((p) => byPod.get(p.metadata!.uid!) !== 1).map((p) => `${p.metadata!.name}: ${byPod.get(p.metadata!.uid!) ?? 0} containers`),
    ...containers.filter((c) => !pods.some((p) => p.metadata!.uid === c.Labels['lattice.dev/pod-uid'])).map((c) => `orphan ${c.Labels['lattice.dev/pod-name']}`),
  ];
  if (problems.length) throw new Error(problems.join('; '));
  return true;
}

async function readyNode(name: string): Promise<boolean> {
  const node = await core.readNode({ name }).catch(() => undefined);
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Watches a collection from now on; `onEvent` sees every change in order. */
async function watchFrom<T extends k8s.KubernetesObject>(
  path: string,
  query: Record<string, string>,
  resourceVersion: string,
  onEvent: (type: string, obj: T) => void,
): Promise<() => void> {
  const req = await new k8s.Watch(kc).watch(path, { ...query, resourceVersion, allowWatchBookmarks: 'false' }, onEvent, () => undefined);
  return () => req.abort();
}

// ---------------------------------------------------------------------------------------------
// The operator replicas and the agents.

/** Where the agents dial: the gateway on the cluster's public address, the one the machines reach. */
const gatewayAddress = () => `${PUBLIC_ADDRESS}:${grpcPort}`;

function startOperator(identity: string): OperatorProcess {
  const op = OperatorProcess.start({
    identity,
    namespace: gatewayNamespace,
    watchNamespace: namespace,
    grpcHost: PUBLIC_ADDRESS,
    grpcPort,
    kubeletPort,
    providerLossTimeoutSeconds: PROVIDER_LOSS_SECONDS,
    disconnectGraceSeconds: DISCONNECT_GRACE_SECONDS,
    // A dead leader is replaced within ~6 s.
    extra: ['--lease-duration-seconds', '6', '--renew-deadline-seconds', '4', '--retry-period-seconds', '1'],
  });
  operators.push(op);
  return op;
}

const leaseHolder = async () => (await coordination.readNamespacedLease({ name: LEASE, namespace: gatewayNamespace }).catch(() => undefined))?.spec?.holderIdentity;

/** What the operators and agents said, kept for a failure's post-mortem. */
async function saveLogs(): Promise<string> {
  const file = path.join(stateDir, 'logs', 'workloads-e2e.log');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    [...operators.map((op) => `--- operator ${op.identity}\n${op.output.join('\n')}`), ...[alpha, beta].map((a) => `--- agent ${a.name}\n${a.output.join('')}`)].join('\n'),
  );
  return file;
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  [grpcPort, kubeletPort] = [await freePort(), await freePort()];
  // The providers' machines, and the cluster's public address the gateway listens on for them.
  await ensureInternet();
  const machines = await Promise.all([createMachine(), createMachine()]);

  // The first replica leads and starts the gateway; the second waits as a standby.
  const first = startOperator('operator-a');
  await first.gatewayListening();
  startOperator('operator-b');

  const token = await createJoinToken(gatewayNamespace, 2);
  for (const [i, agent] of [alpha, beta].entries()) {
    Object.assign(agent, await joinedAgent(agent.name, gatewayAddress(), token, offer('1'), { machine: machines[i] }));
    runAgent(agent);
  }
  await Promise.all(operators.map((op) => op.ready()));
  for (const agent of [alpha, beta]) await waitFor(`node ${agent.name} Ready`, () => readyNode(agent.name), { timeoutMs: 60_000 });
  // Until the node lifecycle controller has seen it Ready, a new Node carries a not-ready taint.
  for (const agent of [alpha, beta]) {
    await waitFor(`node ${agent.name} schedulable`, async () => !(await core.readNode({ name: agent.name })).spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')));
  }
}, 180_000);

afterAll(async () => {
  await saveLogs().catch(() => undefined);
  await Promise.all(operators.map((op) => op.stop('SIGTERM')));
  await Promise.all([alpha, beta].map((a) => stopAgent(a)));
  await removeSuiteLeftovers({ namespaces: [namespace], gatewayNamespace, agents: [alpha, beta] });
  await removeAllMachines();
}, 120_000);

// ---------------------------------------------------------------------------------------------

describe('a Workload on two real providers', () => {
  test('with three replicas becomes Ready, spread over both providers, each replica a running container', async () => {
    await applyWorkload('web', { command: serve('v1'), replicas: 3, placement: { spreadAcrossProviders: true } });
    await kubectl(['wait', '--for=condition=Ready', '--timeout=90s', '-n', namespace, 'workload/web']);

    const wl = await getWorkload('web');
    expect(wl.status).toMatchObject({ phase: 'Running', replicas: 3, readyReplicas: 3, nodes: [alpha.name, beta.name].sort() });
    const pods = (await podsOf('web')).filter(isActive);
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
    expect([...perNode.values()].sort()).toEqual([1, 2]);

    const containers = await containersOf('web');
    expect(containers).toHaveLength(3);
    for (const c of containers) {
      const pod = pods.find((p) => p.metadata!.uid === c.Labels['lattice.dev/pod-uid'])!;
      expect(c.Labels['lattice.dev/node']).toBe(pod.spec!.nodeName);
      expect(c.State).toBe('running');
    }
    await containersMatchPods();
  });

  test('scales up and down, and the providers run exactly that many containers', async () => {
    await patchWorkload('web', { replicas: 5 });
    await waitForStatus('web', '5 ready', readyWith(5));
    expect(await containersOf('web')).toHaveLength(5);

    await patchWorkload('web', { replicas: 3 });
    await waitForStatus('web', '3 ready', readyWith(3));
    await waitFor('the providers to stop the two replicas', async () => (await containersOf('web')).length === 3 && containersMatchPods(), { timeoutMs: 60_000 });
  });

  test('a new command rolls over replica by replica, never below the ready count', async () => {
    const before = await getWorkload('web');
    const pods = await core.listNamespacedPod({ namespace, labelSelector: 'lattice.dev/workload=web' });
    const tracked = new Map(pods.items.map((p) => [p.metadata!.uid!, p]));
    const readyNow = () => [...tracked.values()].filter((p) => isActive(p) && isReady(p)).length;
    let podsMin = readyNow();
    let statusMin = before.status!.readyReplicas!;
    const stopPods = await watchFrom<k8s.V1Pod>(`/api/v1/namespaces/${namespace}/pods`, { labelSelector: 'lattice.dev/workload=web' }, pods.metadata!.resourceVersion!, (type, pod) => {
      if (type === 'DELETED') tracked.delete(pod.metadata!.uid!);
      else tracked.set(pod.metadata!.uid!, pod);
      podsMin = Math.min(podsMin, readyNow());
    });
    const stopStatus = await watchFrom<k8s.KubernetesObject & StoredWorkload>(
      `/apis/lattice.dev/v1alpha1/namespaces/${namespace}/workloads`,
      { fieldSelector: 'metadata.name=web' },
      before.metadata.resourceVersion,
      (type, wl) => {
        if (type !== 'DELETED' && wl.status?.readyReplicas !== undefined) statusMin = Math.min(statusMin, wl.status.readyReplicas);
      },
    );
    try {
      await patchWorkload('web', { command: serve('v2') });
      const oldUids = new Set(pods.items.map((p) => p.metadata!.uid!));
      await waitForStatus('web', 'rolled over', (wl) => readyWith(3)(wl) && condition(wl, 'Progressing')?.reason === 'RolloutComplete');
      await waitFor('the old replicas gone', async () => (await podsOf('web')).every((p) => !oldUids.has(p.metadata!.uid!)), { timeoutMs: 60_000 });
    } finally {
      stopPods();
      stopStatus();
    }
    expect(podsMin).toBeGreaterThanOrEqual(3);
    expect(statusMin).toBeGreaterThanOrEqual(3);

    // Every replica runs the new command; the old containers are gone.
    await waitFor('exactly the new containers', async () => (await containersOf('web')).length === 3 && containersMatchPods(), { timeoutMs: 60_000 });
    for (const c of await containersOf('web')) {
      const { Config } = await engineWith(c).getContainer(c.Id).inspect();
      expect([Config.Entrypoint ?? [], Config.Cmd ?? []].flat().join(' ')).toContain('echo v2');
    }
  });

  test('suspend stops every replica on the providers; resume brings them back', async () => {
    await patchWorkload('web', { suspend: true });
    const stopped = await waitForStatus('web', 'Stopped', (wl) => wl.status?.phase === 'Stopped' && wl.status.replicas === 0);
    expect(condition(stopped, 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });
    expect((await apps.readNamespacedDeployment({ name: 'web', namespace })).spec?.replicas).toBe(0);
    await waitFor('no container of web running', async () => (await appContainers()).every((c) => !c.Labels['lattice.dev/pod-name']!.startsWith('web-')), { timeoutMs: 60_000 });

    await patchWorkload('web', { suspend: false });
    await kubectl(['wait', '--for=condition=Ready', '--timeout=90s', '-n', namespace, 'workload/web']);
    await waitForStatus('web', '3 ready again', readyWith(3));
    expect(await containersOf('web')).toHaveLength(3);
  });
});

describe('an HTTP Workload', () => {
  test('answers on its port at the pod IP on its machine, by its Service name from the other, and reports where it is reachable', async () => {
    const html = 'hello from lattice';
    await applyWorkload('hello', {
      command: ['sh', '-c', `trap 'exit 0' TERM; mkdir -p /www && echo '${html}' > /www/index.html && httpd -f -p 8080 -h /www & wait`],
      ports: [{ name: 'http', port: 8080 }],
      healthCheck: { http: { path: '/', port: 'http' }, periodSeconds: 2 },
    });
    await kubectl(['wait', '--for=condition=Ready', '--timeout=90s', '-n', namespace, 'workload/hello']);
    const wl = await getWorkload('hello');
    expect(wl.status?.endpoints).toEqual([{ port: 'http', url: `http://hello.${namespace}.svc:8080` }]);

    const [pod] = (await podsOf('hello')).filter(isActive);
    const podIP = pod!.status?.podIP;
    expect(podIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // Asked from replicas of web (busybox), one on each machine: the pod IP is an address on its
    // own machine's namespace network; from the other machine the Service's name leads to it.
    const webPods = (await podsOf('web')).filter((p) => isActive(p) && isReady(p));
    const sameMachine = webPods.find((p) => p.spec?.nodeName === pod!.spec?.nodeName);
    const otherMachine = webPods.find((p) => p.spec?.nodeName !== pod!.spec?.nodeName);
    // (This busybox's wget crashes with its own -T: the timeout applet bounds it.)
    const get = (from: k8s.V1Pod, url: string) => kubectl(['exec', '-n', namespace, from.metadata!.name!, '--', 'timeout', '5', 'wget', '-qO-', url]);
    expect(await get(sameMachine!, `http://${podIP}:8080/`)).toBe(`${html}\n`);
    expect(await waitFor('hello answering by its Service name from the other machine', () => get(otherMachine!, 'http://hello:8080/'))).toBe(`${html}\n`);

    const service = await core.readNamespacedService({ name: 'hello', namespace });
    expect(service.spec?.ports).toEqual([expect.objectContaining({ name: 'http', port: 8080, targetPort: 'http' })]);
  });
});

describe('capacity', () => {
  test('a Workload no provider has room for is Scheduled=False InsufficientCapacity, and runs once a provider offers more', async () => {
    await applyWorkload('big', { command: serve('big'), resources: { cpu: '1500m', memory: '64Mi' } });
    const waiting = await waitForStatus('big', 'InsufficientCapacity', (wl) => condition(wl, 'Scheduled')?.reason === 'InsufficientCapacity');
    expect(condition(waiting, 'Scheduled')).toMatchObject({ status: 'False', message: expect.stringContaining('each replica asks for 1500m CPU') });
    expect(condition(waiting, 'Ready')).toMatchObject({ status: 'False', reason: 'InsufficientCapacity' });
    expect(waiting.status?.phase).toBe('Pending');

    // The provider raises its offer in its config file; the agent reloads it live.
    await writeAgentConfig(alpha.stateDir, offer('2'), gatewayAddress());
    await waitFor('alpha to offer 2 CPUs', async () => (await core.readNode({ name: alpha.name })).status?.allocatable?.cpu === '2');
    const placed = await waitForStatus('big', 'Ready', readyWith(1));
    expect(placed.status?.nodes).toEqual([alpha.name]);
    expect(condition(placed, 'Scheduled')).toMatchObject({ status: 'True', reason: 'AllReplicasScheduled' });
    expect(await containersOf('big')).toHaveLength(1);

    await kubectl(['delete', 'workload', 'big', '-n', namespace]);
    await waitFor('big\'s container gone', async () => (await appContainers()).every((c) => !c.Labels['lattice.dev/pod-name']!.startsWith('big-')), { timeoutMs: 60_000 });
  });
});

describe('failover', () => {
  test('when the leading operator is killed mid-way, the other finishes the work: nothing duplicated, nothing lost', async () => {
    const holder = await leaseHolder();
    const leader = operators.find((op) => op.identity === holder)!;
    expect(leader.running).toBe(true);
    const standby = operators.find((op) => op !== leader)!;
    const before = new Map((await appContainers()).map((c) => [c.Id, c.Labels['lattice.dev/pod-name']]));
    const webHash = (await podsOf('web')).find(isActive)!.metadata!.labels!['pod-template-hash'];

    // Work in flight: three new Workloads; the leader dies as soon as it has begun.
    for (let i = 0; i < 3; i++) await applyWorkload(`batch-${i}`, { command: serve(`batch-${i}`) });
    await waitFor('the leader to begin', () => apps.readNamespacedDeployment({ name: 'batch-0', namespace }), { intervalMs: 50 });
    await leader.stop('SIGKILL');
    // And work asked for while no operator leads.
    await applyWorkload('batch-3', { command: serve('batch-3') });
    await patchWorkload('web', { replicas: 4 });

    await waitFor('the standby to take the Lease', async () => (await leaseHolder()) === standby.identity, { timeoutMs: 30_000 });
    await standby.gatewayListening();
    await waitFor('both agents connected to the new gateway', async () => (await standby.metric('lattice_gateway_connected_agents')) === 2, { timeoutMs: 60_000 });
    for (let i = 0; i < 4; i++) await waitForStatus(`batch-${i}`, 'Ready', readyWith(1));
    await waitForStatus('web', '4 ready', readyWith(4));

    // Nothing duplicated: one Deployment each, one running container per pod, no new rollout of web.
    const deployments = (await apps.listNamespacedDeployment({ namespace })).items.map((d) => d.metadata!.name).sort();
    expect(deployments).toEqual(['batch-0', 'batch-1', 'batch-2', 'batch-3', 'hello', 'web']);
    for (let i = 0; i < 4; i++) expect(await containersOf(`batch-${i}`)).toHaveLength(1);
    await waitFor('one container per pod, and no other', containersMatchPods, { timeoutMs: 30_000 });
    const webPods = (await podsOf('web')).filter(isActive);
    expect(new Set(webPods.map((p) => p.metadata!.labels!['pod-template-hash']))).toEqual(new Set([webHash]));
    // Nothing lost or restarted: the replicas that ran before still run, in the same containers.
    const running = new Set((await appContainers()).map((c) => c.Id));
    expect([...before.keys()].filter((id) => !running.has(id))).toEqual([]);
  });
});

describe('provider loss', () => {
  let killedAt = 0;
  let lostPods: string[] = [];

  test("a killed agent's replicas are replaced on the other provider after the provider-loss timeout", async () => {
    lostPods = (await core.listNamespacedPod({ namespace })).items.filter((p) => isActive(p) && p.spec?.nodeName === alpha.name).map((p) => p.metadata!.uid!);
    expect(lostPods.length).toBeGreaterThan(0);
    killedAt = Date.now();
    await stopAgent(alpha, 'SIGKILL');

    const names = ['web', 'hello', 'batch-0', 'batch-1', 'batch-2', 'batch-3'];
    const limitMs = (PROVIDER_LOSS_SECONDS + DISCONNECT_GRACE_SECONDS + 40) * 1000;
    await waitFor(
      'every Workload Ready again, all on beta',
      async () => {
        for (const name of names) {
          const wl = await getWorkload(name);
          if (condition(wl, 'Ready')?.status !== 'True' || wl.status?.nodes?.join() !== beta.name) throw new Error(`${name}: ${JSON.stringify(wl.status)}`);
        }
        return true;
      },
      { timeoutMs: limitMs, intervalMs: 500 },
    );
    const recoveredMs = Date.now() - killedAt;
    console.log(`replicas of the lost provider replaced in ${(recoveredMs / 1000).toFixed(1)} s (provider-loss timeout ${PROVIDER_LOSS_SECONDS} s)`);

    // The replacements were made no sooner than the timeout allows: a short outage moves nothing.
    const replacements = (await core.listNamespacedPod({ namespace })).items.filter((p) => isActive(p) && new Date(p.metadata!.creationTimestamp!).getTime() > killedAt);
    expect(replacements.length).toBe(lostPods.length);
    for (const p of replacements) {
      expect(p.spec?.nodeName).toBe(beta.name);
      expect(new Date(p.metadata!.creationTimestamp!).getTime() - killedAt).toBeGreaterThanOrEqual((PROVIDER_LOSS_SECONDS - 1) * 1000);
    }
    expect((await core.readNode({ name: alpha.name })).status?.conditions?.find((c) => c.type === 'Ready')?.status).not.toBe('True');
  }, 150_000);

  test('when the provider comes back, its replaced replicas are stopped and their pods finish deleting', async () => {
    runAgent(alpha);
    await waitFor('alpha Ready again', () => readyNode(alpha.name), { timeoutMs: 60_000 });
    await waitFor(
      "the lost pods gone from the API and from alpha's Docker",
      async () => {
        const left = (await core.listNamespacedPod({ namespace })).items.filter((p) => lostPods.includes(p.metadata!.uid!));
        const onAlpha = (await appContainers()).filter((c) => c.Labels['lattice.dev/node'] === alpha.name);
        return left.length === 0 && onAlpha.length === 0;
      },
      { timeoutMs: 60_000 },
    );
    await containersMatchPods();
  });
});

describe('deleting', () => {
  test('deleting the Workloads removes their Deployments, Services and every container on the providers', async () => {
    await kubectl(['delete', 'workloads', '--all', '-n', namespace]);
    await waitFor('no Deployment or Service left', async () => (await apps.listNamespacedDeployment({ namespace })).items.length === 0 && (await core.listNamespacedService({ namespace })).items.length === 0);
    await waitFor('no pod left', async () => (await core.listNamespacedPod({ namespace })).items.length === 0, { timeoutMs: 90_000 });
    const left = await waitFor(
      'no container of the namespace left, sandboxes included',
      async () => {
        const all = await namespaceContainers({ all: true });
        return all.length === 0 ? all : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(left).toEqual([]);
  });
});
