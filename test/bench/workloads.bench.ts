// Workloads: what a user waits for, and what the operator costs.
//
//   1. Apply -> Ready: a Workload (1 replica) created in the API until its Ready condition is True,
//      through the real operator (a child process: controllers and gateway), the real scheduler
//      and controller-manager, and two real agents on the real Docker engine; one at a time, and
//      BURST at once. The floor is a bare Docker create+start of the same image, measured in this
//      run (absolute figures on a shared 2-core machine mean little alone).
//   2. Operator memory: the RSS of a fresh operator process idle, then with NODES simulated
//      provider nodes connected (simulated-agents.ts: the real join flow and gRPC protocol, no
//      Docker), then with WORKLOADS Workloads Ready on them.
//
// Scale it down for a quick run: BENCH_WL_SINGLE_RUNS, BENCH_WL_BURST, BENCH_WL_NODES,
// BENCH_WL_WORKLOADS; BENCH_WL_PARTS=latency or memory runs one part only.
import * as k8s from '@kubernetes/client-node';
import Docker from 'dockerode';
import { adminKubeConfig, kubectl, uniqueName, waitFor } from '../support/cluster.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { BUSYBOX, cleanupNodes, joinedAgent, removeNamespaceNetworks, runAgent, stopAgent, type AgentProcess } from '../support/providers.js';
import { SimulatedFleet } from './simulated-agents.js';
import { percentile, report } from './stats.js';

const SINGLE_RUNS = Number(process.env.BENCH_WL_SINGLE_RUNS ?? 10);
const BURST = Number(process.env.BENCH_WL_BURST ?? 100);
const NODES = Number(process.env.BENCH_WL_NODES ?? 100);
const WORKLOADS = Number(process.env.BENCH_WL_WORKLOADS ?? 1000);
const PARTS = new Set((process.env.BENCH_WL_PARTS ?? 'latency,memory').split(','));
const BENCH_LABEL = 'provider.lattice.dev/bench';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const docker = new Docker();
const WORKLOADS_API = { group: 'lattice.dev', version: 'v1alpha1', plural: 'workloads' } as const;
const COMMAND = ['sh', '-c', "trap 'exit 0' TERM; sleep 3600 & wait"];

interface StoredWorkload {
  metadata?: { name?: string; generation?: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
}

const isReady = (wl: StoredWorkload) =>
  wl.status?.observedGeneration === wl.metadata?.generation && (wl.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);

/** Runs `task` over `items`, at most `limit` at a time. */
async function pooled<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/**
 * When each Workload of the namespace first became Ready, and when its pod first did (by the
 * Workload's name), from watches started now.
 */
class ReadyWatch {
  readonly readyAt = new Map<string, number>();
  readonly podReadyAt = new Map<string, number>();
  private readonly aborts: (() => void)[] = [];

  static async start(namespace: string): Promise<ReadyWatch> {
    const watch = new ReadyWatch();
    const workloads = await new k8s.Watch(kc).watch(
      `/apis/lattice.dev/v1alpha1/namespaces/${namespace}/workloads`,
      {},
      (type: string, wl: StoredWorkload) => {
        const name = wl.metadata?.name;
        if (type !== 'DELETED' && name && !watch.readyAt.has(name) && isReady(wl)) watch.readyAt.set(name, Date.now());
      },
      () => undefined,
    );
    const pods = await new k8s.Watch(kc).watch(
      `/api/v1/namespaces/${namespace}/pods`,
      {},
      (type: string, pod: k8s.V1Pod) => {
        const name = pod.metadata?.labels?.['lattice.dev/workload'];
        const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        if (type !== 'DELETED' && name && ready && !watch.podReadyAt.has(name)) watch.podReadyAt.set(name, Date.now());
      },
      () => undefined,
    );
    watch.aborts.push(
      () => workloads.abort(),
      () => pods.abort(),
    );
    return watch;
  }

  async until(names: string[], timeoutMs: number): Promise<void> {
    await waitFor(`${names.length} Workloads Ready`, () => names.every((n) => this.readyAt.has(n)) || undefined, { timeoutMs, intervalMs: 100 });
  }

  stop(): void {
    for (const abort of this.aborts) abort();
  }
}

function workload(namespace: string, name: string, selector: string): object {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name, namespace },
    spec: { image: BUSYBOX, command: COMMAND, replicas: 1, resources: { cpu: '10m', memory: '16Mi' }, placement: { providerSelector: { [BENCH_LABEL]: selector } } },
  };
}

/** Creates the Workloads (at most `concurrency` requests at a time); returns when each was sent. */
async function createWorkloads(namespace: string, names: string[], selector: string, concurrency: number): Promise<Map<string, number>> {
  const sentAt = new Map<string, number>();
  await pooled(names, concurrency, async (name) => {
    sentAt.set(name, Date.now());
    await custom.createNamespacedCustomObject({ ...WORKLOADS_API, namespace, body: workload(namespace, name, selector) });
  });
  return sentAt;
}

async function deleteWorkloadsAndWait(namespace: string): Promise<void> {
  await custom.deleteCollectionNamespacedCustomObject({ ...WORKLOADS_API, namespace });
  await waitFor('the pods gone', async () => (await core.listNamespacedPod({ namespace })).items.length === 0, { timeoutMs: 180_000, intervalMs: 250 });
}

/** Bare Docker: create + start of the same image and command, until the engine says running. */
async function bareDocker(count: number): Promise<number[]> {
  const started = await Promise.all(
    Array.from({ length: count }, async () => {
      const t0 = Date.now();
      const c = await docker.createContainer({ Image: BUSYBOX, Cmd: COMMAND, Labels: { 'lattice.dev/bench': 'baseline' } });
      await c.start();
      return { c, ms: Date.now() - t0 };
    }),
  );
  await Promise.all(started.map(({ c }) => c.remove({ force: true })));
  return started.map((s) => s.ms);
}

async function nodesReady(selector: string, count: number, timeoutMs: number): Promise<void> {
  await waitFor(
    `${count} provider nodes Ready and schedulable`,
    async () => {
      const nodes = (await core.listNode({ labelSelector: `${BENCH_LABEL}=${selector}` })).items;
      const ready = nodes.filter(
        (n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !n.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')),
      );
      return ready.length === count || undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

async function startOperator(namespace: string, gatewayNamespace: string): Promise<{ operator: OperatorProcess; gateway: string }> {
  const grpcPort = await freePort();
  const operator = OperatorProcess.start({
    identity: 'bench',
    namespace: gatewayNamespace,
    watchNamespace: namespace,
    grpcPort,
    kubeletPort: await freePort(),
    keepLines: 200,
  });
  await operator.gatewayListening();
  await operator.ready();
  return { operator, gateway: `127.0.0.1:${grpcPort}` };
}

async function removeNamespace(namespace: string): Promise<void> {
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------

async function latency(): Promise<void> {
  const namespace = uniqueName('bench-wl');
  const gatewayNamespace = `${namespace}-gw`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const { operator, gateway } = await startOperator(namespace, gatewayNamespace);
  const agents: AgentProcess[] = [];
  try {
    const token = await createJoinToken(gatewayNamespace, 2);
    for (const name of ['a', 'b']) {
      const agent = await joinedAgent(`${namespace}-${name}`, gateway, token, { cpu: '2', memory: '4Gi', maxPods: Math.ceil(BURST / 2) + 10, labels: { [BENCH_LABEL]: namespace } });
      agents.push(agent);
      runAgent(agent);
    }
    await nodesReady(namespace, 2, 90_000);
    const watch = await ReadyWatch.start(namespace);
    try {
      // Warm-up, not counted: the namespace's Docker network, the operator's first reconcile.
      await createWorkloads(namespace, ['warm-up'], namespace, 1);
      await watch.until(['warm-up'], 120_000);
      await deleteWorkloadsAndWait(namespace);

      const single: number[] = [];
      const singlePods: number[] = [];
      const singleFloor: number[] = [];
      for (let i = 0; i < SINGLE_RUNS; i++) {
        singleFloor.push(...(await bareDocker(1)));
        const name = `single-${i}`;
        const sentAt = await createWorkloads(namespace, [name], namespace, 1);
        await watch.until([name], 120_000);
        single.push(watch.readyAt.get(name)! - sentAt.get(name)!);
        singlePods.push(watch.podReadyAt.get(name)! - sentAt.get(name)!);
        await deleteWorkloadsAndWait(namespace);
      }

      const burstFloor = await bareDocker(BURST);
      const names = Array.from({ length: BURST }, (_, i) => `burst-${i}`);
      const sentAt = await createWorkloads(namespace, names, namespace, BURST);
      await watch.until(names, 300_000);
      const burst = names.map((n) => watch.readyAt.get(n)! - sentAt.get(n)!);
      const burstPods = names.map((n) => watch.podReadyAt.get(n)! - sentAt.get(n)!);
      await deleteWorkloadsAndWait(namespace);

      report('Workload apply -> Ready (1 replica, real agents on Docker)', 'bare docker create+start', [
        { what: '1 Workload at a time', samples: single, baseline: singleFloor },
        { what: '(of which: apply -> its pod Ready, 1 at a time)', samples: singlePods, baseline: singleFloor },
        { what: `${BURST} Workloads at once`, samples: burst, baseline: burstFloor },
        { what: `(of which: apply -> its pod Ready, ${BURST} at once)`, samples: burstPods, baseline: burstFloor },
      ]);
    } finally {
      watch.stop();
    }
  } finally {
    await removeNamespace(namespace);
    await waitFor('the namespace gone', async () => (await core.readNamespace({ name: namespace }).catch(() => undefined)) === undefined, { timeoutMs: 120_000 }).catch(() => undefined);
    for (const agent of agents) await stopAgent(agent);
    await operator.stop();
    for (const agent of agents) await core.deleteNode({ name: agent.name }).catch(() => undefined);
    await removeNamespace(gatewayNamespace);
    await cleanupNodes(
      agents.map((a) => a.name),
      agents.map((a) => a.stateDir),
    );
    await removeNamespaceNetworks([namespace]);
  }
}

interface MemorySample {
  rss: number;
  heap: number;
  heapTotal: number;
}

/** The operator's memory: median of a few samples of VmRSS and of its V8 heap (in use, and reserved). */
async function sampleMemory(operator: OperatorProcess, samples = 5): Promise<MemorySample> {
  const rss: number[] = [];
  const heap: number[] = [];
  const heapTotal: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
    rss.push(await operator.rssBytes());
    heap.push((await operator.metric('nodejs_heap_size_used_bytes')) ?? NaN);
    heapTotal.push((await operator.metric('nodejs_heap_size_total_bytes')) ?? NaN);
  }
  return { rss: percentile(rss, 50), heap: percentile(heap, 50), heapTotal: percentile(heapTotal, 50) };
}

async function memory(): Promise<void> {
  const namespace = uniqueName('bench-mem');
  const gatewayNamespace = `${namespace}-gw`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const { operator, gateway } = await startOperator(namespace, gatewayNamespace);
  let fleet: SimulatedFleet | undefined;
  const rows: { what: string; sample: MemorySample }[] = [];
  const t0 = Date.now();
  try {
    rows.push({ what: 'idle: no node, no Workload (baseline)', sample: await sampleMemory(operator) });

    const token = await createJoinToken(gatewayNamespace, NODES);
    const perNode = Math.ceil(WORKLOADS / NODES);
    fleet = await SimulatedFleet.start({
      gateway,
      token,
      count: NODES,
      namePrefix: `${namespace}-sim`,
      offer: { cpuMillis: 64_000, memoryBytes: 256 * 2 ** 30, maxPods: perNode * 2 + 10, diskBytes: 0, labels: { [BENCH_LABEL]: namespace }, availability: null },
    });
    await nodesReady(namespace, NODES, 180_000);
    console.log(`${NODES} simulated nodes joined and Ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    rows.push({ what: `${NODES} simulated nodes, no Workload`, sample: await sampleMemory(operator) });

    const names = Array.from({ length: WORKLOADS }, (_, i) => `w-${i}`);
    const watch = await ReadyWatch.start(namespace);
    const created = Date.now();
    try {
      await createWorkloads(namespace, names, namespace, 20);
      await watch.until(names, 540_000);
    } finally {
      watch.stop();
    }
    const readyIn = (Date.now() - created) / 1000;
    console.log(`${WORKLOADS} Workloads created and Ready in ${readyIn.toFixed(0)} s (${fleet.podCount} pods on the simulated nodes)`);
    rows.push({ what: `${NODES} simulated nodes, ${WORKLOADS} Workloads Ready`, sample: await sampleMemory(operator) });

    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    const [idle, before, after] = rows.map((r) => r.sample) as [MemorySample, MemorySample, MemorySample];
    console.log('\n## Operator memory (controllers + gateway, one process)');
    console.log('| state | RSS | V8 heap used | V8 heap reserved | RSS vs idle |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const { what, sample } of rows) {
      console.log(`| ${what} | ${mib(sample.rss)} | ${mib(sample.heap)} | ${mib(sample.heapTotal)} | ${(sample.rss / idle.rss).toFixed(2)}x |`);
    }
    console.log(`Per Workload (its objects in the caches, its pod on a node): ${((after.rss - before.rss) / WORKLOADS / 1024).toFixed(1)} KiB RSS, ${((after.heap - before.heap) / WORKLOADS / 1024).toFixed(1)} KiB heap.`);
  } finally {
    // The namespace goes first, while the gateway and the simulated nodes still confirm deletions.
    await removeNamespace(namespace);
    await kubectl(['delete', 'pods', '--all', '-n', namespace, '--force', '--grace-period=0', '--wait=false']).catch(() => undefined);
    await waitFor('the namespace gone', async () => (await core.readNamespace({ name: namespace }).catch(() => undefined)) === undefined, { timeoutMs: 300_000, intervalMs: 1_000 }).catch(
      (err: Error) => console.error(err.message),
    );
    await operator.stop();
    await fleet?.stop();
    await core.deleteCollectionNode({ labelSelector: `${BENCH_LABEL}=${namespace}` }).catch(() => undefined);
    await removeNamespace(gatewayNamespace);
  }
}

const started = Date.now();
if (PARTS.has('latency')) await latency();
if (PARTS.has('memory')) await memory();
console.log(`\nworkloads bench done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
// Watches and gRPC channels may hold the event loop open.
process.exit(0);
