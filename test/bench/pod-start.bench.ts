// Pod start latency through the whole Lattice path — pod created in the API, bound by the real
// kube-scheduler, sent by the gateway, run by the agent on the real Docker engine, Ready in the
// API — against the floor: a bare Docker create+start of the same image, measured in this run.
// For 1 pod at a time and for 50 pods at once.
import Docker from 'dockerode';
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { Registry } from 'prom-client';
import { GatewayOptionsSchema, startGateway } from '../../operator/src/gateway/index.js';
import { adminKubeConfig, uniqueName, waitFor } from '../support/cluster.js';
import { BUSYBOX, REGISTRY, cleanupNodes, joinAgent, newStateDir, runAgent, stopAgent, type AgentProcess } from '../support/providers.js';
import { report } from './stats.js';

const SINGLE_RUNS = Number(process.env.BENCH_SINGLE_RUNS ?? 10);
const BURST = Number(process.env.BENCH_BURST ?? 50);

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const docker = new Docker();

/** Bare Docker: create + start of the same image and command, until the engine says running. */
async function bareDocker(count: number): Promise<number[]> {
  const times = await Promise.all(
    Array.from({ length: count }, async () => {
      const t0 = Date.now();
      const c = await docker.createContainer({ Image: BUSYBOX, Cmd: ['sleep', '3600'], Labels: { 'lattice.dev/bench': 'baseline' } });
      await c.start();
      return { c, ms: Date.now() - t0 };
    }),
  );
  await Promise.all(times.map(({ c }) => c.remove({ force: true })));
  return times.map((t) => t.ms);
}

async function podsReady(namespace: string, names: string[], created: Map<string, number>): Promise<number[]> {
  const readyAt = new Map<string, number>();
  const watch = new k8s.Watch(kc);
  const req = await watch.watch(`/api/v1/namespaces/${namespace}/pods`, {}, (_phase: string, pod: k8s.V1Pod) => {
    const name = pod.metadata!.name!;
    if (!readyAt.has(name) && pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) readyAt.set(name, Date.now());
  }, () => undefined);
  try {
    await waitFor(`${names.length} pods Ready`, () => readyAt.size >= names.length, { timeoutMs: 300_000, intervalMs: 100 });
  } finally {
    req.abort();
  }
  return names.map((n) => readyAt.get(n)! - created.get(n)!);
}

async function createPods(namespace: string, node: string, count: number): Promise<{ names: string[]; created: Map<string, number> }> {
  const names = Array.from({ length: count }, (_, i) => `bench-${i}-${Math.random().toString(36).slice(2, 6)}`);
  const created = new Map<string, number>();
  await Promise.all(
    names.map(async (name) => {
      created.set(name, Date.now());
      await core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name },
          spec: {
            tolerations: [{ key: 'lattice.dev/provider', operator: 'Exists', effect: 'NoSchedule' }],
            nodeSelector: { 'kubernetes.io/hostname': node },
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'app', image: BUSYBOX, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '8Mi' } } }],
          },
        },
      });
    }),
  );
  return { names, created };
}

async function deleteAll(namespace: string): Promise<void> {
  await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 });
  await waitFor('bench pods gone', async () => (await core.listNamespacedPod({ namespace })).items.length === 0, { timeoutMs: 120_000 });
}

async function main(): Promise<void> {
  const namespace = uniqueName('bench-pods');
  const gatewayNamespace = uniqueName('bench-gw');
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  const running = await startGateway(kc, GatewayOptionsSchema.parse({ grpcAddress: '127.0.0.1:0', namespace: gatewayNamespace, kubeletPort: 0, registry: REGISTRY }), pino({ level: 'warn' }), new Registry());
  const agent: AgentProcess = { name: uniqueName('bench-node'), stateDir: await newStateDir('bench'), output: [] };
  try {
    const { token } = await running.gateway.createJoinToken(600, 1);
    const joined = await joinAgent({ gateway: `127.0.0.1:${running.gateway.port}`, token, name: agent.name, stateDir: agent.stateDir, extra: ['--cpu', '2', '--memory', '4Gi', '--max-pods', String(BURST + 10)] });
    if (joined.code !== 0) throw new Error(`join failed: ${joined.output}`);
    runAgent(agent);
    await waitFor('the bench node Ready', async () => (await core.readNode({ name: agent.name }).catch(() => undefined))?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), { timeoutMs: 60_000 });

    const single: number[] = [];
    const singleBaseline: number[] = [];
    for (let i = 0; i < SINGLE_RUNS; i++) {
      singleBaseline.push(...(await bareDocker(1)));
      const { names, created } = await createPods(namespace, agent.name, 1);
      single.push(...(await podsReady(namespace, names, created)));
      await deleteAll(namespace);
    }
    const burstBaseline = await bareDocker(BURST);
    const { names, created } = await createPods(namespace, agent.name, BURST);
    const burst = await podsReady(namespace, names, created);
    await deleteAll(namespace);

    report('Pod start latency: created -> Ready in the API', 'bare docker create+start', [
      { what: '1 pod at a time', samples: single, baseline: singleBaseline },
      { what: `${BURST} pods at once`, samples: burst, baseline: burstBaseline },
    ]);
  } finally {
    await stopAgent(agent);
    await running.stop();
    await core.deleteNode({ name: agent.name }).catch(() => undefined);
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await core.deleteNamespace({ name: gatewayNamespace }).catch(() => undefined);
    await cleanupNodes([agent.name], [agent.stateDir]);
  }
}

await main();
