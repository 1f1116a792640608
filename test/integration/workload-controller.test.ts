// The Workload controller against the real kube-apiserver, controller-manager and scheduler.
//
// There are no real providers here: fake provider Nodes (the labels and taint the gateway gives
// a provider, a Ready condition, allocatable, and a node Lease renewed like a kubelet's) let the
// real scheduler bind pods, and Kubernetes' own controllers run the Deployments. Nothing starts
// the containers, so the replicas stay unready, except where a test plays the agent's part and
// reports them ready. The fake nodes carry a label of this run, and every Workload selects it
// through spec.placement.providerSelector, so other suites' nodes and pods are left alone.
//
// The controllers run in-process, watching only this suite's namespace; leader election runs two
// real operator processes (operator/src/main.ts) and kills the leader.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Manager } from '../../operator/src/controller/manager.js';
import { ControllerMetrics } from '../../operator/src/controller/metrics.js';
import { isNotFound } from '../../operator/src/kube/errors.js';
import { EventRecorder } from '../../operator/src/kube/events.js';
import { workloadController } from '../../operator/src/workload/controller.js';
import { adminKubeConfig, kubeconfigPath, kubectl, repoRoot, uniqueName, waitFor } from '../support/cluster.js';
import { condition, workloadReader } from '../support/workloads.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);

const run = uniqueName('it-wl');
const namespace = run;
const { getWorkload, waitForStatus } = workloadReader(kc, namespace, { timeoutMs: 60_000 });
const RUN_LABEL = 'lattice.dev/test-run';
const IMAGE = '127.0.0.1:5001/lattice/busybox:1';
const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' });

// ---------------------------------------------------------------------------------------------
// Fake providers: a Node as the gateway registers it, kept alive by a node Lease.

const providers: FakeProvider[] = [];

class FakeProvider {
  private heartbeat?: NodeJS.Timeout;

  constructor(
    readonly name: string,
    private readonly capacity: { cpu: string; memory: string },
  ) {}

  static async start(capacity: { cpu: string; memory: string }): Promise<FakeProvider> {
    const provider = new FakeProvider(uniqueName('fake-provider'), capacity);
    providers.push(provider);
    await provider.register();
    return provider;
  }

  private async register(): Promise<void> {
    const now = new Date();
    const resources = { ...this.capacity, pods: '110' };
    await core.createNode({
      body: {
        metadata: {
          name: this.name,
          labels: { 'lattice.dev/provider': 'true', type: 'virtual-kubelet', 'kubernetes.io/hostname': this.name, [RUN_LABEL]: run },
        },
        spec: { taints: [{ key: 'lattice.dev/provider', value: 'true', effect: 'NoSchedule' }] },
        status: {
          capacity: resources,
          allocatable: resources,
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake provider', lastHeartbeatTime: now, lastTransitionTime: now }],
        },
      },
    });
    // The node lifecycle controller marks a node unreachable (and evicts its pods) when its
    // Lease goes unrenewed: renew it as a kubelet does.
    const renewTime = () => new k8s.V1MicroTime();
    await coordination.createNamespacedLease({
      namespace: 'kube-node-lease',
      body: { metadata: { name: this.name }, spec: { holderIdentity: this.name, leaseDurationSeconds: 40, renewTime: renewTime() } },
    });
    this.heartbeat = setInterval(() => {
      coordination
        .patchNamespacedLease(
          { name: this.name, namespace: 'kube-node-lease', body: { spec: { renewTime: renewTime() } } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        )
        .catch(() => undefined);
    }, 5_000);
    // Until the node lifecycle controller sees it Ready, a new Node is tainted not-ready.
    await waitFor(`${this.name} schedulable`, async () => {
      const node = await core.readNode({ name: this.name });
      return !node.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready');
    });
  }

  async remove(): Promise<void> {
    clearInterval(this.heartbeat);
    await core.deleteNode({ name: this.name }).catch(() => undefined);
    await coordination.deleteNamespacedLease({ name: this.name, namespace: 'kube-node-lease' }).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Workloads and what became of them.

async function applyWorkload(ns: string, name: string, spec: Record<string, unknown>): Promise<void> {
  const manifest = { apiVersion: 'lattice.dev/v1alpha1', kind: 'Workload', metadata: { name, namespace: ns }, spec };
  await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
}

async function patchWorkload(name: string, spec: Record<string, unknown>): Promise<void> {
  await kubectl(['patch', 'workload', name, '-n', namespace, '--type', 'merge', '-p', JSON.stringify({ spec })]);
}

async function podsOf(name: string, ns = namespace): Promise<k8s.V1Pod[]> {
  const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: `lattice.dev/workload=${name}` });
  return pods.items.filter((p) => !p.metadata?.deletionTimestamp);
}

async function gone(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

/**
 * Waits for an Event ("Type Reason") about `name`: the controller records it just after it writes
 * the status that a test waited for, so it may not be there yet when that status is.
 */
async function eventRecorded(name: string, typeAndReason: string, kind?: string): Promise<void> {
  const fieldSelector = `involvedObject.name=${name}${kind ? `,involvedObject.kind=${kind}` : ''}`;
  await waitFor(`the event ${typeAndReason} about ${name}`, async () => {
    const events = await core.listNamespacedEvent({ namespace, fieldSelector });
    const seen = events.items.map((e) => `${e.type} ${e.reason}`);
    if (seen.includes(typeAndReason)) return true;
    throw new Error(`events: ${JSON.stringify(seen)}`);
  }, { timeoutMs: 15_000 });
}

/** What an agent reports once a replica's container runs and passes its health check. */
async function reportReady(pod: k8s.V1Pod): Promise<void> {
  const now = new Date().toISOString();
  const ready = (type: string) => ({ type, status: 'True', lastTransitionTime: now });
  await core.patchNamespacedPodStatus(
    {
      name: pod.metadata!.name!,
      namespace: pod.metadata!.namespace!,
      body: {
        status: {
          phase: 'Running',
          conditions: [ready('Initialized'), ready('ContainersReady'), ready('Ready')],
          containerStatuses: [{ name: 'app', image: IMAGE, imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } }],
        },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
  );
}

// ---------------------------------------------------------------------------------------------

const stopOperator = new AbortController();
let operator: Promise<void>;
let manager: Manager;

beforeAll(async () => {
  await kubectl(['create', 'namespace', namespace]);

  const registry = new Registry();
  const workloads = workloadController(
    kc,
    { namespace, providerLossTimeoutSeconds: 60, maxConcurrency: 4, buildRegistry: '127.0.0.1:5001', buildTimeoutSeconds: 600, buildCpu: '1', buildMemory: '1Gi' },
    { log, metrics: new ControllerMetrics(registry), events: new EventRecorder(core, 'lattice-operator', log) },
  );
  manager = new Manager({ log, registry, host: '127.0.0.1', port: 0 }).addCaches(...workloads.caches).addController(workloads.controller);
  operator = manager.run(stopOperator.signal);
  await waitFor('the operator ready', async () => (await fetch(`http://127.0.0.1:${manager.port}/readyz`)).ok);

  for (let i = 0; i < 3; i++) await FakeProvider.start({ cpu: '2', memory: '4Gi' });
});

afterAll(async () => {
  stopOperator.abort();
  await operator;
  // Nothing runs the pods' containers, so nothing confirms their deletion: force it.
  await kubectl(['delete', 'pods', '--all', '-n', namespace, '--force', '--grace-period=0']).catch(() => undefined);
  await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
  await Promise.all(providers.map((p) => p.remove()));
});

const placement = () => ({ providerSelector: { [RUN_LABEL]: run }, spreadAcrossProviders: true });

describe('a Workload with three replicas', () => {
  const name = 'web';

  beforeAll(async () => {
    await applyWorkload(namespace, name, {
      image: IMAGE,
      command: ['httpd', '-f', '-p', '8080'],
      replicas: 3,
      ports: [{ name: 'http', port: 8080 }],
      resources: { cpu: '500m', memory: '256Mi' },
      healthCheck: { http: { path: '/', port: 'http' }, periodSeconds: 5 },
      placement: placement(),
    });
  });

  test('becomes a Deployment it owns, with the pod template that places replicas on providers', async () => {
    const wl = await getWorkload(name);
    const deployment = await waitFor('the Deployment', () => apps.readNamespacedDeployment({ name, namespace }));
    expect(deployment.metadata!.ownerReferences).toEqual([
      { apiVersion: 'lattice.dev/v1alpha1', kind: 'Workload', name, uid: wl.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(deployment.metadata!.managedFields!.map((f) => f.manager)).toContain('lattice-operator');
    expect(deployment.spec!.replicas).toBe(3);
    expect(deployment.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });

    const pod = deployment.spec!.template.spec!;
    expect(deployment.spec!.template.metadata!.labels).toMatchObject({
      'app.kubernetes.io/name': name,
      'app.kubernetes.io/instance': name,
      'app.kubernetes.io/managed-by': 'lattice-operator',
      'app.kubernetes.io/part-of': 'lattice',
      'lattice.dev/workload': name,
    });
    expect(pod.nodeSelector).toEqual({ 'lattice.dev/provider': 'true' });
    expect(pod.tolerations).toEqual([
      { key: 'lattice.dev/provider', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
    ]);
    expect(pod.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: RUN_LABEL, operator: 'In', values: [run] }] },
    ]);
    expect(pod.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', nodeTaintsPolicy: 'Honor', labelSelector: { matchLabels: { 'lattice.dev/workload': name } } },
    ]);
    expect(pod).toMatchObject({ automountServiceAccountToken: false, enableServiceLinks: false });
    const [container] = pod.containers;
    expect(container!.resources).toEqual({ requests: { cpu: '500m', memory: '256Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    expect(container!.readinessProbe).toMatchObject({ httpGet: { path: '/', port: 'http' }, periodSeconds: 5 });
    expect(container!.livenessProbe).toMatchObject({ httpGet: { path: '/', port: 'http' }, periodSeconds: 5 });
    expect(container!.securityContext).toEqual({ allowPrivilegeEscalation: false, privileged: false });
  });

  test('gets a Service for its port', async () => {
    const service = await waitFor('the Service', () => core.readNamespacedService({ name, namespace }));
    expect(service.spec).toMatchObject({ type: 'ClusterIP', selector: { 'lattice.dev/workload': name }, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] });
    expect(service.metadata!.ownerReferences![0]).toMatchObject({ kind: 'Workload', name, controller: true });
  });

  test('the scheduler binds one replica to each fake provider, and the status says so', async () => {
    const nodes = await waitFor('three pods bound', async () => {
      const bound = (await podsOf(name)).map((p) => p.spec?.nodeName).filter(Boolean);
      return bound.length === 3 ? bound.sort() : undefined;
    });
    expect(nodes).toEqual(providers.map((p) => p.name).sort());

    const wl = await waitForStatus(name, 'all replicas scheduled', (w) => condition(w, 'Scheduled')?.status === 'True' && w.status?.nodes?.length === 3);
    expect(wl.status).toMatchObject({ phase: 'Deploying', replicas: 3, readyReplicas: 0, nodes, endpoints: [{ port: 'http', url: `http://${name}.${namespace}.svc:8080` }] });
    expect(condition(wl, 'Scheduled')).toMatchObject({ reason: 'AllReplicasScheduled', observedGeneration: wl.metadata.generation });
    // Nothing runs the containers: not Ready, and the message says where each replica waits.
    expect(condition(wl, 'Ready')).toMatchObject({ status: 'False', reason: 'ReplicasNotReady' });
    expect(condition(wl, 'Ready')!.message).toContain('0 of 3 replicas are ready. Waiting for the provider to start it:');
    expect(condition(wl, 'Progressing')).toMatchObject({ status: 'True', reason: 'WaitingForReplicas' });
    expect(condition(wl, 'Degraded')).toMatchObject({ status: 'False' });
    await kubectl(['wait', '--for=condition=Ready=False', '--timeout=10s', '-n', namespace, `workload/${name}`]);
  });

  test('scales', async () => {
    await patchWorkload(name, { replicas: 2 });
    await waitFor('the Deployment scaled to 2', async () => (await apps.readNamespacedDeployment({ name, namespace })).spec?.replicas === 2);
    const wl = await waitForStatus(name, 'two replicas', (w) => w.status?.replicas === 2 && w.status.nodes?.length === 2);
    expect(condition(wl, 'Scheduled')).toMatchObject({ status: 'True', message: expect.stringContaining('All 2 replicas are placed') });
  });

  test('when the providers report the replicas ready (as an agent would), it is Ready and `kubectl wait` returns', async () => {
    for (const pod of await podsOf(name)) await reportReady(pod);
    await kubectl(['wait', '--for=condition=Ready', '--timeout=60s', '-n', namespace, `workload/${name}`]);
    const wl = await getWorkload(name);
    expect(wl.status).toMatchObject({ phase: 'Running', readyReplicas: 2 });
    expect(condition(wl, 'Ready')).toMatchObject({ reason: 'AllReplicasReady', message: '2 of 2 replicas are ready.' });
    await eventRecorded(name, 'Normal AllReplicasReady', 'Workload');
  });

  test('suspend stops every replica and keeps the Workload; resuming brings them back', async () => {
    await patchWorkload(name, { suspend: true });
    await waitFor('the Deployment scaled to 0', async () => (await apps.readNamespacedDeployment({ name, namespace })).spec?.replicas === 0);
    const stopped = await waitForStatus(name, 'stopped', (w) => w.status?.phase === 'Stopped' && w.status.replicas === 0);
    expect(condition(stopped, 'Ready')).toMatchObject({ status: 'False', reason: 'Suspended' });

    await patchWorkload(name, { suspend: false });
    await waitFor('the Deployment back at 2', async () => (await apps.readNamespacedDeployment({ name, namespace })).spec?.replicas === 2);
    const resumed = await waitForStatus(name, 'two replicas again', (w) => w.status?.replicas === 2);
    expect(resumed.status!.phase).not.toBe('Stopped');
  });

  test('deleting the Workload lets the garbage collector delete its Deployment and Service', async () => {
    await kubectl(['delete', 'workload', name, '-n', namespace]);
    await waitFor('the Deployment gone', () => gone(() => apps.readNamespacedDeployment({ name, namespace })));
    await waitFor('the Service gone', () => gone(() => core.readNamespacedService({ name, namespace })));
  });
});

describe('a Workload no provider has room for', () => {
  const name = 'big';

  test('is Scheduled=False InsufficientCapacity with what it asks for and the scheduler verdict', async () => {
    await applyWorkload(namespace, name, { image: IMAGE, resources: { cpu: '3', memory: '1Gi' }, placement: placement() });
    const wl = await waitForStatus(name, 'insufficient capacity', (w) => condition(w, 'Scheduled')?.reason === 'InsufficientCapacity');
    const scheduled = condition(wl, 'Scheduled')!;
    expect(scheduled.status).toBe('False');
    expect(scheduled.message).toContain('1 of 1 replicas cannot be placed: each replica asks for 3 CPU and 1Gi memory');
    expect(scheduled.message).toMatch(/3 nodes lack free cpu/);
    expect(scheduled.message).toMatch(/\(scheduler: "0\/\d+ nodes are available: .*3 Insufficient cpu.*"\)/);
    expect(condition(wl, 'Ready')).toMatchObject({ status: 'False', reason: 'InsufficientCapacity' });
    expect(wl.status!.phase).toBe('Pending');
    await eventRecorded(name, 'Warning InsufficientCapacity');
  });

  test('is placed by itself once a provider with room appears', async () => {
    const bigger = await FakeProvider.start({ cpu: '4', memory: '8Gi' });
    const wl = await waitForStatus(name, 'scheduled', (w) => condition(w, 'Scheduled')?.status === 'True');
    expect(wl.status!.nodes).toEqual([bigger.name]);
    expect(condition(wl, 'Scheduled')!.reason).toBe('AllReplicasScheduled');
    await eventRecorded(name, 'Normal AllReplicasScheduled');
  });
});

describe('a Workload with volumes', () => {
  const name = 'redis';

  test('runs as a StatefulSet with a lattice-local claim per replica', async () => {
    await applyWorkload(namespace, name, {
      image: IMAGE,
      ports: [{ name: 'redis', port: 6379, protocol: 'TCP' }],
      volumes: [{ name: 'data', mountPath: '/data', size: '1Gi' }],
      placement: placement(),
    });
    const set = await waitFor('the StatefulSet', () => apps.readNamespacedStatefulSet({ name, namespace }));
    expect(set.metadata!.ownerReferences![0]).toMatchObject({ kind: 'Workload', name, controller: true });
    expect(set.spec!.volumeClaimTemplates!.map((t) => ({ name: t.metadata!.name, spec: t.spec }))).toEqual([
      { name: 'data', spec: expect.objectContaining({ storageClassName: 'lattice-local', resources: { requests: { storage: '1Gi' } } }) },
    ]);
    expect(set.spec!.template.spec!.containers[0]!.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }]);
    const wl = await waitForStatus(name, 'endpoints', (w) => w.status?.endpoints !== undefined);
    expect(wl.status!.endpoints).toEqual([{ port: 'redis', url: `tcp://${name}.${namespace}.svc:6379` }]);
  });

  test('a change of its volumes is refused in the status, not in a retry loop', async () => {
    await patchWorkload(name, { volumes: [{ name: 'data', mountPath: '/data', size: '2Gi' }] });
    const wl = await waitForStatus(name, 'Degraded', (w) => condition(w, 'Degraded')?.status === 'True');
    expect(condition(wl, 'Degraded')).toMatchObject({ reason: 'VolumesImmutable', message: expect.stringContaining('asks for data 2Gi, but the replicas keep data 1Gi') });
  });

  test('without volumes it becomes a Deployment, and the StatefulSet is deleted', async () => {
    await kubectl(['patch', 'workload', name, '-n', namespace, '--type', 'json', '-p', '[{"op":"remove","path":"/spec/volumes"}]']);
    await waitFor('the Deployment', () => apps.readNamespacedDeployment({ name, namespace }));
    await waitFor('the StatefulSet gone', () => gone(() => apps.readNamespacedStatefulSet({ name, namespace })));
    await waitForStatus(name, 'not Degraded', (w) => condition(w, 'Degraded')?.status === 'False');
  });
});

test('a Workload built from source starts its build Job, and runs nothing until the first image', async () => {
  const name = 'from-git';
  await applyWorkload(namespace, name, { source: { url: 'https://github.com/h5bp/html5-boilerplate.git' }, build: { strategy: 'static' } });
  const wl = await waitForStatus(name, 'building', (w) => w.status?.phase === 'Building');
  expect(condition(wl, 'Ready')).toMatchObject({ status: 'False', reason: 'Building' });
  expect(condition(wl, 'Built')).toMatchObject({ status: 'False', reason: 'Building' });
  const job = (wl.status as { build?: { job?: string } }).build?.job;
  expect(job).toMatch(/^from-git-build-[0-9a-f]{10}$/);
  await kubectl(['get', 'job', job!, '-n', namespace]);
  expect(await gone(() => apps.readNamespacedDeployment({ name, namespace }))).toBe(true);
});

test("a name taken by an object the Workload does not manage is reported, never taken over", async () => {
  const name = 'taken';
  await kubectl(['create', 'service', 'clusterip', name, '-n', namespace, '--tcp=80:80']);
  await applyWorkload(namespace, name, { image: IMAGE, ports: [{ name: 'http', port: 80 }], placement: placement() });
  const wl = await waitForStatus(name, 'NameConflict', (w) => condition(w, 'Ready')?.reason === 'NameConflict');
  expect(condition(wl, 'Ready')!.message).toContain('A Service named taken already exists and is not managed by this Workload');
  const service = await core.readNamespacedService({ name, namespace });
  expect(service.metadata!.ownerReferences).toBeUndefined();
});

// ---------------------------------------------------------------------------------------------

describe('leader election between two operator processes', () => {
  const ns = `${run}-le`;
  const lease = 'lattice-operator-it';
  const operators = new Map<string, { child: ChildProcess; output: string[]; port?: number }>();

  function startOperator(identity: string): void {
    // node itself, with tsx as a loader: the tsx CLI would run the operator in a grandchild that
    // a SIGKILL of the child leaves running.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(repoRoot, 'operator/src/main.ts'),
        ...['--kubeconfig', kubeconfigPath, '--namespace', ns, '--watch-namespace', ns, '--gateway', 'false'],
        ...['--leader-election-lease', lease, '--leader-election-identity', identity, '--health-address', '127.0.0.1', '--metrics-port', '0'],
        // A short Lease: the takeover below waits out less, and leaves more of its 15 s to a busy machine.
        ...['--lease-duration-seconds', '4', '--renew-deadline-seconds', '3', '--retry-period-seconds', '1'],
      ],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const entry: { child: ChildProcess; output: string[]; port?: number } = { child, output: [] };
    const read = (data: Buffer) => {
      for (const line of data.toString().split('\n').filter(Boolean)) {
        entry.output.push(line);
        const address = /"address":"127\.0\.0\.1:(\d+)"/.exec(line);
        if (address) entry.port = Number(address[1]);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    operators.set(identity, entry);
  }

  const url = (identity: string, p: string) => `http://127.0.0.1:${operators.get(identity)!.port}${p}`;
  const holder = async () => (await coordination.readNamespacedLease({ name: lease, namespace: ns })).spec?.holderIdentity;
  const reconciles = async (identity: string) => /lattice_reconcile_total\{controller="workload"/.test(await (await fetch(url(identity, '/metrics'))).text());
  // 'close', not 'exit': only then has everything the process wrote been read.
  const exited = (child: ChildProcess) =>
    new Promise<number | null>((resolve) => (child.stdout!.closed && child.stderr!.closed ? resolve(child.exitCode) : child.once('close', resolve)));

  beforeAll(async () => {
    await kubectl(['create', 'namespace', ns]);
    startOperator('operator-a');
    startOperator('operator-b');
    for (const identity of operators.keys()) {
      await waitFor(`${identity} ready`, async () => (await fetch(url(identity, '/readyz'))).ok, { timeoutMs: 60_000 });
    }
  });

  afterAll(async () => {
    for (const { child } of operators.values()) child.kill('SIGKILL');
    await kubectl(['delete', 'pods', '--all', '-n', ns, '--force', '--grace-period=0']).catch(() => undefined);
    await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  });

  test('only the leader reconciles; when it dies the other takes over within 15 s', async () => {
    const leader = (await waitFor('a leader', holder))!;
    const follower = [...operators.keys()].find((id) => id !== leader)!;

    await applyWorkload(ns, 'first', { image: IMAGE, replicas: 0 });
    await waitFor('the first Deployment', () => apps.readNamespacedDeployment({ name: 'first', namespace: ns }));
    // The reconcile that created the Deployment is counted when it returns, a moment later.
    await waitFor(`${leader} to count its reconcile`, () => reconciles(leader), { timeoutMs: 10_000 });
    expect(await reconciles(follower)).toBe(false);

    const killedAt = Date.now();
    operators.get(leader)!.child.kill('SIGKILL');
    await applyWorkload(ns, 'second', { image: IMAGE, replicas: 0 });
    await waitFor('the second Deployment, from the new leader', () => apps.readNamespacedDeployment({ name: 'second', namespace: ns }), { timeoutMs: 20_000 });
    const tookOver = Date.now() - killedAt;
    expect(await holder()).toBe(follower);
    await waitFor(`${follower} to count its reconcile`, () => reconciles(follower), { timeoutMs: 10_000 });
    expect(tookOver).toBeLessThan(15_000);
  });

  test('a leader killed (-9) in the middle of making a Workload leaves nothing half made: the next one finishes it', async () => {
    startOperator('operator-c');
    await waitFor('operator-c ready', async () => (await fetch(url('operator-c', '/readyz'))).ok, { timeoutMs: 60_000 });
    const leader = (await holder())!;
    await applyWorkload(ns, 'third', { image: IMAGE, replicas: 2, ports: [{ name: 'http', port: 8080 }] });
    // Killed the moment its first object exists: the Deployment is made before the Service.
    await waitFor('the third Deployment', () => apps.readNamespacedDeployment({ name: 'third', namespace: ns }), { intervalMs: 10 });
    operators.get(leader)!.child.kill('SIGKILL');
    // What the killed one had not made yet, the next one makes: once it leads, all must be there.
    await waitFor('operator-c to lead', async () => (await holder()) === 'operator-c', { timeoutMs: 20_000 });

    const service = await waitFor('the Service', () => core.readNamespacedService({ name: 'third', namespace: ns }), { timeoutMs: 30_000 });
    expect(service.metadata?.ownerReferences?.map((o) => `${o.kind}/${o.name}`)).toEqual(['Workload/third']);
    await workloadReader(kc, ns, { timeoutMs: 30_000 }).waitForStatus('third', 'observed by the next leader', (wl) => wl.status?.observedGeneration === wl.metadata?.generation);
    const deployments = (await apps.listNamespacedDeployment({ namespace: ns })).items.filter((d) => d.metadata?.ownerReferences?.some((o) => o.name === 'third'));
    expect(deployments.map((d) => d.spec?.replicas)).toEqual([2]);
  });

  test('SIGTERM stops the leader gracefully and releases the Lease', async () => {
    const leader = (await holder())!;
    const { child, output } = operators.get(leader)!;
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(output.join('\n')).toContain('released the leader lease');
    expect(await holder()).toBeUndefined();
  });
});
