// PostgresInstance end to end: the controller (in-process) against the real control plane, a real
// gateway (in-process, on the cluster's public address), a real agent (the lattice-agent CLI) on a
// provider machine of its own behind NAT with its own Docker engine (hack/machines), and the real
// psql talking to the real server.
//
// psql runs on the provider's machine and connects to the pod's IP on its engine's bridge. The
// connection Secret's host is the Service's DNS name (<name>.<namespace>.svc), which resolves
// only inside a cluster network that machine is not part of.
import path from 'node:path';
import type Docker from 'dockerode';
import * as k8s from '@kubernetes/client-node';
import { API_VERSION } from '@lattice/crds';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Controller } from '../../operator/src/controller/controller.js';
import { ControllerMetrics } from '../../operator/src/controller/metrics.js';
import { GatewayOptionsSchema, startGateway, type RunningGateway } from '../../operator/src/gateway/index.js';
import { localVolumeName } from '../../operator/src/gateway/local-volumes.js';
import { EventRecorder } from '../../operator/src/kube/events.js';
import { waitForCacheSync, type Cache } from '../../operator/src/kube/informer.js';
import { postgresController } from '../../operator/src/postgres/index.js';
import { adminKubeConfig, secretData, uniqueName, waitFor } from '../support/cluster.js';
import { PUBLIC_ADDRESS, createMachine, ensureInternet, removeAllMachines } from '../support/machines.js';
import { REGISTRY, engineOf, joinAgent, nodeContainers, runAgent, stopAgent, type AgentProcess } from '../support/providers.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' });

const namespace = uniqueName('it-pg');
const gatewayNamespace = uniqueName('it-pg-gateway');
const agent: AgentProcess = { name: uniqueName('pg-provider'), stateDir: '', output: [] };
// Other suites' providers may be connected to the same cluster: the servers go to this one only.
const RUN_LABEL = 'lattice.dev/test-run';
const INSTANCES = { group: 'lattice.dev', version: 'v1alpha1', plural: 'postgresinstances', namespace } as const;
let gateway: RunningGateway;

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface StoredInstance {
  metadata: { uid: string };
  status?: { phase?: string; node?: string; connectionSecret?: string; endpoint?: { host: string; port: number }; conditions?: Condition[] };
}

// ---------------------------------------------------------------------------------------------
// The controller, in this process; stopped and started again to play an operator restart.

let running: { controller: Controller; caches: Cache<k8s.KubernetesObject>[] } | undefined;

async function startController(): Promise<void> {
  const deps = { log, metrics: new ControllerMetrics(new Registry()), events: new EventRecorder(core, 'lattice-operator', log) };
  running = postgresController(kc, { namespace, maxConcurrency: 2, providerSelector: { [RUN_LABEL]: namespace }, registry: REGISTRY }, deps);
  await Promise.all(running.caches.map((c) => c.start()));
  await waitForCacheSync(running.caches, AbortSignal.timeout(30_000));
  running.controller.start();
}

async function stopController(): Promise<void> {
  if (!running) return;
  await running.controller.stop();
  await Promise.all(running.caches.map((c) => c.stop()));
  running = undefined;
}

// ---------------------------------------------------------------------------------------------

function instance(name: string, spec: Record<string, unknown> = {}) {
  return {
    apiVersion: API_VERSION,
    kind: 'PostgresInstance',
    metadata: { name, namespace },
    spec: { version: '15', database: 'app', owner: 'app', storage: { size: '1Gi' }, resources: { cpu: '500m', memory: '256Mi' }, ...spec },
  };
}

const readInstance = (name: string) => custom.getNamespacedCustomObject({ ...INSTANCES, name }) as Promise<StoredInstance>;
const condition = (pg: StoredInstance, type: string) => pg.status?.conditions?.find((c) => c.type === type);

async function patchSpec(name: string, spec: Record<string, unknown>): Promise<void> {
  await custom.patchNamespacedCustomObject(
    { ...INSTANCES, name, body: { spec } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

async function readyInstance(name: string): Promise<StoredInstance> {
  return waitFor(
    `PostgresInstance ${name} Ready`,
    async () => {
      const pg = await readInstance(name);
      if (condition(pg, 'Ready')?.status === 'True') return pg;
      throw new Error(JSON.stringify(pg.status));
    },
    { timeoutMs: 120_000 },
  );
}

async function connectionOf(name: string): Promise<Record<string, string>> {
  return secretData(await core.readNamespacedSecret({ namespace, name: `${name}-connection` }));
}

async function podIP(name: string): Promise<string> {
  return waitFor(`pod ${name}-0 with an IP`, async () => (await core.readNamespacedPod({ namespace, name: `${name}-0` })).status?.podIP);
}

/** Runs SQL with the real psql as the owner, over TCP, with the Secret's password. */
async function psql(name: string, sql: string): Promise<string> {
  const c = await connectionOf(name);
  const argv = ['psql', '-h', await podIP(name), '-p', c.port!, '-U', c.username!, '-d', c.dbname!, '-v', 'ON_ERROR_STOP=1', '-qAtc', sql];
  const result = await agent.machine!.exec(argv, { env: { PGPASSWORD: c.password, PGCONNECT_TIMEOUT: '5' }, timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`psql exited with ${result.code}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** psql once the server accepts connections again (after a restart), retrying until then. */
const psqlWhenUp = (name: string, sql: string) => waitFor(`psql ${sql}`, () => psql(name, sql), { timeoutMs: 120_000, intervalMs: 500 });

async function serverContainer(name: string): Promise<Docker.ContainerInfo | undefined> {
  const containers = await nodeContainers(agent.name, engineOf(agent));
  return containers.find((c) => c.Labels['lattice.dev/pod-name'] === `${name}-0` && c.Labels['lattice.dev/container'] === 'postgres' && c.State === 'running');
}

async function dataVolume(name: string): Promise<string> {
  const claim = await core.readNamespacedPersistentVolumeClaim({ namespace, name: `data-${name}-0` });
  return localVolumeName(claim.spec!.volumeName!);
}

const volumeExists = (volume: string) =>
  engineOf(agent)
    .getVolume(volume)
    .inspect()
    .then(() => true, () => false);

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  // The provider's machine, and the cluster's public address the gateway listens on for it.
  await ensureInternet();
  agent.machine = await createMachine();
  agent.stateDir = path.join(agent.machine.home, '.lattice-agent');
  const options = GatewayOptionsSchema.parse({
    ...{ grpcAddress: `${PUBLIC_ADDRESS}:0`, servingHosts: [PUBLIC_ADDRESS], namespace: gatewayNamespace },
    ...{ kubeletPort: 0, disconnectGraceSeconds: 10, registry: REGISTRY },
  });
  gateway = await startGateway(kc, options, log, new Registry());
  const { token } = await gateway.gateway.createJoinToken(600, 1);
  const joined = await joinAgent({
    gateway: `${PUBLIC_ADDRESS}:${gateway.gateway.port}`,
    token,
    name: agent.name,
    stateDir: agent.stateDir,
    extra: ['--cpu', '2', '--memory', '2Gi', '--max-pods', '10'],
    machine: agent.machine,
  });
  expect(joined).toMatchObject({ code: 0 });
  runAgent(agent);
  await waitFor(`node ${agent.name}`, () => core.readNode({ name: agent.name }).catch(() => undefined));
  await core.patchNode(
    { name: agent.name, body: { metadata: { labels: { [RUN_LABEL]: namespace } } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  await startController();
}, 120_000);

afterAll(async () => {
  await stopController();
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  // The claims Retain kept, and any PersistentVolume left, go with the namespace; their Docker
  // volumes are removed by the gateway while the agent still runs.
  await waitFor('the namespace to be gone', async () => (await core.readNamespace({ name: namespace }).catch(() => undefined)) === undefined, { timeoutMs: 90_000 }).catch(() => undefined);
  await stopAgent(agent);
  await gateway?.stop();
  await core.deleteNamespace({ name: gatewayNamespace }).catch(() => undefined);
  await core.deleteNode({ name: agent.name }).catch(() => undefined);
  await removeAllMachines();
}, 180_000);

describe('a PostgresInstance', () => {
  const name = 'app-db';
  let volume: string;

  test('becomes Ready, with its endpoint, node and connection Secret', async () => {
    await custom.createNamespacedCustomObject({ ...INSTANCES, body: instance(name) });
    const pg = await readyInstance(name);
    expect(pg.status).toMatchObject({
      phase: 'Running',
      node: agent.name,
      connectionSecret: `${name}-connection`,
      endpoint: { host: `${name}.${namespace}.svc`, port: 5432 },
    });
    const c = await connectionOf(name);
    expect(c).toMatchObject({ host: `${name}.${namespace}.svc`, port: '5432', username: 'app', dbname: 'app' });
    expect(c.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(c.uri).toBe(`postgresql://app:${c.password}@${name}.${namespace}.svc:5432/app`);
    expect(c['jdbc-uri']).toBe(`jdbc:postgresql://${name}.${namespace}.svc:5432/app?user=app&password=${c.password}`);
    expect(JSON.stringify(await readInstance(name))).not.toContain(c.password);
    volume = await dataVolume(name);
  });

  test('stores rows with psql, and sizes its settings for its memory', async () => {
    await psql(name, 'CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT i, md5(i::text) FROM generate_series(1, 100) i');
    expect(await psql(name, 'SELECT count(*) FROM notes')).toBe('100');
    // 25% of 256Mi; reloadable ones from lattice.conf.
    expect(await psql(name, 'SHOW shared_buffers')).toBe('64MB');
    expect(await psql(name, 'SHOW effective_cache_size')).toBe('192MB');
  });

  test('keeps its rows when its container is killed (the agent restarts it)', async () => {
    const before = await serverContainer(name);
    await engineOf(agent).getContainer(before!.Id).kill();
    await waitFor('a new server container', async () => {
      const now = await serverContainer(name);
      return now !== undefined && now.Id !== before!.Id;
    }, { timeoutMs: 90_000 });
    expect(await psqlWhenUp(name, 'SELECT count(*) FROM notes')).toBe('100');
  });

  test('keeps its rows across an agent restart', async () => {
    await stopAgent(agent);
    runAgent(agent);
    expect(await psqlWhenUp(name, 'SELECT count(*) FROM notes')).toBe('100');
    await readyInstance(name);
  });

  test('keeps its rows and its password across an operator restart', async () => {
    const { password } = await connectionOf(name);
    await stopController();
    await startController();
    await readyInstance(name);
    expect((await connectionOf(name)).password).toBe(password);
    expect(await psqlWhenUp(name, 'SELECT count(*) FROM notes')).toBe('100');
  });

  test('applies a reloadable parameter live, without a restart', async () => {
    const started = await psql(name, 'SELECT pg_postmaster_start_time()');
    await patchSpec(name, { parameters: { work_mem: '12MB' } });
    await waitFor('work_mem 12MB', async () => (await psql(name, 'SHOW work_mem')) === '12MB', { timeoutMs: 60_000 });
    expect(await psql(name, 'SELECT pg_postmaster_start_time()')).toBe(started);
  });

  test('refuses parameters PostgreSQL rejects, with its message, and keeps running', async () => {
    await patchSpec(name, { parameters: { work_mem: '12MB', shared_buffers: 'lots' } });
    const degraded = await waitFor('Degraded InvalidParameters', async () => {
      const c = condition(await readInstance(name), 'Degraded');
      return c?.reason === 'InvalidParameters' ? c : undefined;
    });
    expect(degraded.message).toMatch(/invalid value for parameter "shared_buffers": "lots"/);
    expect(await psql(name, 'SELECT count(*) FROM notes')).toBe('100');
    expect(await psql(name, 'SHOW shared_buffers')).toBe('64MB');
    // Corrected: the restart-only setting rolls the server, and the data is still there.
    await patchSpec(name, { parameters: { work_mem: '12MB', shared_buffers: '48MB' } });
    await waitFor('shared_buffers 48MB', async () => (await psql(name, 'SHOW shared_buffers').catch(() => '')) === '48MB', { timeoutMs: 120_000 });
    expect(await psqlWhenUp(name, 'SELECT count(*) FROM notes')).toBe('100');
    expect(condition(await readyInstance(name), 'Degraded')?.status).toBe('False');
  });

  test('takes its data with it when deleted', async () => {
    await custom.deleteNamespacedCustomObject({ ...INSTANCES, name });
    await waitFor('the server container to be gone', async () => (await serverContainer(name)) === undefined, { timeoutMs: 60_000 });
    await waitFor(`Docker volume ${volume} to be gone`, async () => !(await volumeExists(volume)), { timeoutMs: 90_000 });
    // The garbage collector deletes the connection Secret on its own schedule, not the volume's.
    await waitFor(`Secret ${name}-connection to be gone`, () => core.readNamespacedSecret({ namespace, name: `${name}-connection` }).then(() => false, (err: { code?: number }) => err.code === 404), {
      timeoutMs: 30_000,
    });
  });
});

describe('a PostgresInstance with reclaimPolicy Retain', () => {
  const name = 'kept-db';

  test('leaves its data volume when deleted, for a new instance of the same name', async () => {
    await custom.createNamespacedCustomObject({ ...INSTANCES, body: instance(name, { reclaimPolicy: 'Retain' }) });
    await readyInstance(name);
    await psql(name, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')");
    const volume = await dataVolume(name);

    await custom.deleteNamespacedCustomObject({ ...INSTANCES, name });
    await waitFor('the server container to be gone', async () => (await serverContainer(name)) === undefined, { timeoutMs: 60_000 });
    expect(await volumeExists(volume)).toBe(true);
    expect((await core.readNamespacedPersistentVolumeClaim({ namespace, name: `data-${name}-0` })).status?.phase).toBe('Bound');

    // The StatefulSet of a new instance of that name finds the claim, and the data, again.
    await waitFor('the old instance to be gone', async () => (await readInstance(name).catch(() => undefined)) === undefined);
    await custom.createNamespacedCustomObject({ ...INSTANCES, body: instance(name, { reclaimPolicy: 'Retain' }) });
    await readyInstance(name);
    expect(await psqlWhenUp(name, 'SELECT v FROM kept')).toBe('still here');
  });
});
