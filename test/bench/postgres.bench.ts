// PostgresInstance start latency through the whole Lattice path — instance applied, StatefulSet,
// claim and local volume provisioned, pod bound by the real kube-scheduler, sent by the gateway,
// run by the agent on the real Docker engine, initdb and start, psql answering `SELECT 1` with the
// connection Secret's credentials — against the floor: PostgreSQL's own initdb + start in a bare
// `docker run` of the same image, until psql answers, measured in this run.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import * as k8s from '@kubernetes/client-node';
import { API_VERSION } from '@lattice/crds';
import pino from 'pino';
import { Registry } from 'prom-client';
import { ControllerMetrics } from '../../operator/src/controller/metrics.js';
import { GatewayOptionsSchema, startGateway } from '../../operator/src/gateway/index.js';
import { EventRecorder } from '../../operator/src/kube/events.js';
import { waitForCacheSync } from '../../operator/src/kube/informer.js';
import { postgresController } from '../../operator/src/postgres/index.js';
import { adminKubeConfig, secretData, uniqueName, waitFor } from '../support/cluster.js';
import { REGISTRY, cleanupNodes, joinAgent, newStateDir, runAgent, stopAgent, type AgentProcess } from '../support/providers.js';
import { report } from './stats.js';

const RUNS = Number(process.env.BENCH_POSTGRES_RUNS ?? 5);
const IMAGE = `${REGISTRY}/lattice/postgres:15`;
const RUN_LABEL = 'lattice.dev/test-run';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const docker = new Docker();
const exec = promisify(execFile);
const log = pino({ level: 'warn' });

/** Polls psql `SELECT 1` until it answers; the connection is retried every 100 ms. */
async function answers(what: string, connect: () => Promise<{ host: string; user: string; db: string; password?: string } | undefined>): Promise<void> {
  await waitFor(
    what,
    async () => {
      const c = await connect();
      if (!c) return false;
      const env = { ...process.env, PGPASSWORD: c.password ?? '', PGCONNECT_TIMEOUT: '2' };
      await exec('psql', ['-h', c.host, '-U', c.user, '-d', c.db, '-qAtc', 'SELECT 1'], { env });
      return true;
    },
    { timeoutMs: 180_000, intervalMs: 100 },
  );
}

/** Bare Docker: initdb and start of the same image, until psql from this host gets an answer. */
async function bareDocker(): Promise<number> {
  const t0 = Date.now();
  const container = await docker.createContainer({
    Image: IMAGE,
    Cmd: ['sh', '-c', `initdb -D "$PGDATA" --auth=trust >/dev/null && echo 'host all all all trust' >>"$PGDATA/pg_hba.conf" && exec postgres -D "$PGDATA" -c listen_addresses='*'`],
    Labels: { 'lattice.dev/bench': 'baseline' },
  });
  try {
    await container.start();
    const ip = (await container.inspect()).NetworkSettings.Networks.bridge!.IPAddress;
    await answers('the bare server', () => Promise.resolve({ host: ip, user: 'postgres', db: 'postgres' }));
    return Date.now() - t0;
  } finally {
    await container.remove({ force: true, v: true });
  }
}

async function lattice(namespace: string, name: string): Promise<number> {
  const instances = { group: 'lattice.dev', version: 'v1alpha1', plural: 'postgresinstances', namespace };
  const t0 = Date.now();
  await custom.createNamespacedCustomObject({
    ...instances,
    body: {
      apiVersion: API_VERSION,
      kind: 'PostgresInstance',
      metadata: { name, namespace },
      spec: { version: '15', database: 'app', owner: 'app', storage: { size: '1Gi' }, resources: { cpu: '500m', memory: '256Mi' } },
    },
  });
  await answers(`PostgresInstance ${name}`, async () => {
    const pod = await core.readNamespacedPod({ namespace, name: `${name}-0` }).catch(() => undefined);
    const secret = await core.readNamespacedSecret({ namespace, name: `${name}-connection` }).catch(() => undefined);
    if (!pod?.status?.podIP || !secret?.data) return undefined;
    const data = secretData(secret);
    // The pod's IP on the agent's Docker bridge: the Service name resolves only inside a cluster network.
    return { host: pod.status.podIP, user: data.username!, db: data.dbname!, password: data.password! };
  });
  const elapsed = Date.now() - t0;
  await custom.deleteNamespacedCustomObject({ ...instances, name });
  await waitFor(`${name}'s claim to be gone`, async () => (await core.listNamespacedPersistentVolumeClaim({ namespace })).items.length === 0, { timeoutMs: 120_000 });
  return elapsed;
}

async function main(): Promise<void> {
  const namespace = uniqueName('bench-pg');
  const gatewayNamespace = uniqueName('bench-pg-gw');
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  const gateway = await startGateway(kc, GatewayOptionsSchema.parse({ grpcAddress: '127.0.0.1:0', namespace: gatewayNamespace, kubeletPort: 0, registry: REGISTRY }), log, new Registry());
  const agent: AgentProcess = { name: uniqueName('bench-pg-node'), stateDir: await newStateDir('bench-pg'), output: [] };
  const deps = { log, metrics: new ControllerMetrics(new Registry()), events: new EventRecorder(core, 'lattice-operator', log) };
  // Other providers may be connected: the servers go to this run's only.
  const { controller, caches } = postgresController(kc, { namespace, maxConcurrency: 1, providerSelector: { [RUN_LABEL]: namespace }, registry: REGISTRY }, deps);
  try {
    const { token } = await gateway.gateway.createJoinToken(600, 1);
    const joined = await joinAgent({ gateway: `127.0.0.1:${gateway.gateway.port}`, token, name: agent.name, stateDir: agent.stateDir, extra: ['--cpu', '2', '--memory', '2Gi', '--max-pods', '10'] });
    if (joined.code !== 0) throw new Error(`join failed: ${joined.output}`);
    runAgent(agent);
    await waitFor('the bench node', () => core.readNode({ name: agent.name }).catch(() => undefined), { timeoutMs: 60_000 });
    await core.patchNode({ name: agent.name, body: { metadata: { labels: { [RUN_LABEL]: namespace } } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    await Promise.all(caches.map((c) => c.start()));
    await waitForCacheSync(caches, AbortSignal.timeout(30_000));
    controller.start();

    const samples: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      baseline.push(await bareDocker());
      samples.push(await lattice(namespace, `bench-${i}`));
    }
    report('PostgresInstance: applied -> psql SELECT 1 answers', 'bare docker run initdb+start', [
      { what: `1 instance at a time, 256Mi`, samples, baseline },
    ]);
  } finally {
    await controller.stop();
    await Promise.all(caches.map((c) => c.stop()));
    await core.deleteNamespace({ name: namespace }).catch(() => undefined);
    await waitFor('the bench namespace to be gone', async () => (await core.readNamespace({ name: namespace }).catch(() => undefined)) === undefined, { timeoutMs: 120_000 }).catch(() => undefined);
    await stopAgent(agent);
    await gateway.stop();
    await core.deleteNode({ name: agent.name }).catch(() => undefined);
    await core.deleteNamespace({ name: gatewayNamespace }).catch(() => undefined);
    await cleanupNodes([agent.name], [agent.stateDir]);
  }
}

await main();
