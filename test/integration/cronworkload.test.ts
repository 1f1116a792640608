// CronWorkloads on the real cluster: the CronWorkload controller (run in this process) starts Jobs,
// the real kube-controller-manager's Job controller runs them and the real kube-scheduler binds
// their pods to a provider Node this test creates.
//
// No agent runs behind that Node: the test plays the agent's part (see FakeProvider), keeping the
// Node's Lease fresh and moving each pod to Running, then to Succeeded or Failed with the exit code
// its command would exit with. The runs' command reads the same variables, so with a real agent
// the tests would pass unchanged.
//
// Tests that wait for a minute boundary run concurrently, to keep the file at about two minutes.
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { API_VERSION, GROUP, VERSION, type CronWorkload, type CronWorkloadSpec } from '@lattice/crds';
import { ControllerMetrics } from '../../operator/src/controller/metrics.js';
import { cronWorkloadController } from '../../operator/src/cronworkload/index.js';
import { EventRecorder } from '../../operator/src/kube/events.js';
import { waitForCacheSync } from '../../operator/src/kube/informer.js';
import { adminKubeConfig, kubectl, uniqueName, waitFor } from '../support/cluster.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const batch = kc.makeApiClient(k8s.BatchV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
const CRONWORKLOADS = { group: GROUP, version: VERSION, plural: 'cronworkloads' };
const IMAGE = '127.0.0.1:5001/lattice/busybox:1';
const RUN_NOW = 'lattice.dev/run-now';
const namespace = uniqueName('it-cwl');
const MINUTE = 60_000;
/** The outer bound of each test; every wait in it has its own deadline. */
const TIMEOUT = 180_000;

/** The part a provider's agent plays: a Ready Node, and pods that run and exit as their command says. */
class FakeProvider {
  readonly nodeName = uniqueName('it-cwl-provider');
  /**
   * The namespaces whose pods it plays the agent for. Any provider Node may be given a run's pod,
   * so another suite's pods can land here too: those it leaves alone (they are not its to finish).
   */
  readonly namespaces = new Set<string>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  async start(): Promise<void> {
    await core.createNode({
      body: {
        metadata: { name: this.nodeName, labels: { 'lattice.dev/provider': 'true', 'kubernetes.io/hostname': this.nodeName } },
        spec: { taints: [{ key: 'lattice.dev/provider', value: 'true', effect: 'NoSchedule' }] },
      },
    });
    // A merge patch: the node-lifecycle controller writes this status too, so no resourceVersion.
    const resources = { cpu: '16', memory: '32Gi', pods: '110' };
    await core.patchNodeStatus(
      {
        name: this.nodeName,
        body: {
          status: {
            capacity: resources,
            allocatable: resources,
            conditions: [{ type: 'Ready', status: 'True', reason: 'FakeProvider', message: 'the test plays the agent', lastHeartbeatTime: new Date() }],
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await this.renewLease();
    await waitFor('the fake provider Node to be schedulable', async () => {
      const node = await core.readNode({ name: this.nodeName });
      return !node.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
    });
    void this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await core.deleteNode({ name: this.nodeName }).catch(() => undefined);
    await coordination.deleteNamespacedLease({ name: this.nodeName, namespace: 'kube-node-lease' }).catch(() => undefined);
  }

  async pods(): Promise<k8s.V1Pod[]> {
    return (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${this.nodeName}` })).items.filter((pod) => this.namespaces.has(pod.metadata!.namespace!));
  }

  /** The node-lifecycle controller marks a Node whose Lease is older than 20 s unreachable. */
  private async renewLease(): Promise<void> {
    const spec = { holderIdentity: this.nodeName, leaseDurationSeconds: 40, renewTime: new k8s.V1MicroTime() };
    try {
      await coordination.patchNamespacedLease(
        { name: this.nodeName, namespace: 'kube-node-lease', body: { spec } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    } catch {
      await coordination.createNamespacedLease({ namespace: 'kube-node-lease', body: { metadata: { name: this.nodeName }, spec } });
    }
  }

  private async loop(): Promise<void> {
    let lastRenewal = Date.now();
    while (!this.stopped) {
      try {
        if (Date.now() - lastRenewal > 5_000) {
          await this.renewLease();
          lastRenewal = Date.now();
        }
        await Promise.all((await this.pods()).map((pod) => this.drive(pod)));
      } catch {
        // A conflict or a pod deleted meanwhile: the next pass sees the new state.
      }
      await new Promise((resolve) => (this.timer = setTimeout(resolve, 250)));
    }
  }

  /** One step of a pod's life on this node, as the agent would report it. */
  private async drive(pod: k8s.V1Pod): Promise<void> {
    const { name, namespace: ns } = pod.metadata as { name: string; namespace: string };
    if (pod.metadata?.deletionTimestamp) {
      // The kubelet confirms a deletion once the containers are gone.
      await core.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: 0 });
      return;
    }
    const container = pod.spec!.containers[0]!;
    const env = (key: string) => Number(container.env?.find((e) => e.name === key)?.value ?? 0);
    const base = { name: container.name, image: container.image!, imageID: '', restartCount: 0 };
    if (pod.status?.phase === 'Pending') {
      const now = new Date();
      await this.patchStatus(name, ns, {
        phase: 'Running',
        startTime: now,
        containerStatuses: [{ ...base, ready: true, started: true, state: { running: { startedAt: now } } }],
      });
    } else if (pod.status?.phase === 'Running') {
      const startedAt = new Date(pod.status.startTime!);
      if (Date.now() - startedAt.getTime() < env('RUN_SECONDS') * 1000) return;
      const exitCode = env('EXIT_CODE');
      await this.patchStatus(name, ns, {
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        containerStatuses: [{ ...base, ready: false, started: false, state: { terminated: { exitCode, startedAt, finishedAt: new Date() } } }],
      });
    }
  }

  private async patchStatus(name: string, ns: string, status: k8s.V1PodStatus): Promise<void> {
    await core.patchNamespacedPodStatus({ name, namespace: ns, body: { status } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
  }
}

/** The controller as the operator runs it, for one namespace; stop() is an operator going away. */
async function startController(ns: string): Promise<{ stop(): Promise<void> }> {
  const log = pino({ level: 'warn' });
  const { controller, caches } = cronWorkloadController(
    kc,
    { namespace: ns, maxConcurrency: 4 },
    { log, metrics: new ControllerMetrics(new Registry()), events: new EventRecorder(core, 'lattice-operator', log) },
  );
  await Promise.all(caches.map((cache) => cache.start()));
  await waitForCacheSync(caches, AbortSignal.timeout(30_000));
  controller.start();
  return {
    async stop() {
      await controller.stop();
      await Promise.all(caches.map((cache) => cache.stop()));
    },
  };
}

interface RunBehaviour {
  /** How long the run's container runs. */
  seconds: number;
  exitCode: number;
}

async function createCronWorkload(
  ns: string,
  spec: Partial<CronWorkloadSpec>,
  run: RunBehaviour,
  annotations?: Record<string, string>,
): Promise<string> {
  const name = uniqueName('cwl');
  await custom.createNamespacedCustomObject({
    ...CRONWORKLOADS,
    namespace: ns,
    body: {
      apiVersion: API_VERSION,
      kind: 'CronWorkload',
      metadata: { name, annotations },
      spec: {
        ...spec,
        template: {
          image: IMAGE,
          command: ['sh', '-c', 'sleep "$RUN_SECONDS"; exit "$EXIT_CODE"'],
          env: [
            { name: 'RUN_SECONDS', value: String(run.seconds) },
            { name: 'EXIT_CODE', value: String(run.exitCode) },
          ],
          resources: { cpu: '100m', memory: '32Mi' },
        },
      },
    },
  });
  return name;
}

async function read(ns: string, name: string): Promise<CronWorkload> {
  return (await custom.getNamespacedCustomObject({ ...CRONWORKLOADS, namespace: ns, name })) as CronWorkload;
}

/** Waits until the CronWorkload's status satisfies `check`, and returns it. */
async function statusOf(ns: string, name: string, what: string, check: (cw: CronWorkload) => boolean, timeoutMs = 30_000): Promise<CronWorkload> {
  return waitFor(`${name}: ${what}`, async () => {
    const cw = await read(ns, name);
    return check(cw) ? cw : undefined;
  }, { timeoutMs });
}

async function jobs(ns: string, name: string): Promise<k8s.V1Job[]> {
  const list = await batch.listNamespacedJob({ namespace: ns, labelSelector: `lattice.dev/cronworkload=${name}` });
  return list.items.filter((job) => !job.metadata?.deletionTimestamp);
}

async function events(ns: string, name: string, reason: string): Promise<k8s.CoreV1Event[]> {
  const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name},reason=${reason}` });
  return list.items;
}

async function annotate(ns: string, name: string, value: string): Promise<void> {
  await kubectl(['annotate', '-n', ns, '--overwrite', `cronworkload/${name}`, `${RUN_NOW}=${value}`]);
}

const unixMinutes = (time: string) => Math.floor(Date.parse(time) / MINUTE);

const provider = new FakeProvider();
let controller: { stop(): Promise<void> };

beforeAll(async () => {
  await kubectl(['create', 'namespace', namespace]);
  provider.namespaces.add(namespace);
  await provider.start();
  controller = await startController(namespace);
});

afterAll(async () => {
  await controller?.stop();
  await kubectl(['delete', 'namespace', namespace, '--wait=false']).catch(() => undefined);
  // The provider confirms the deletion of the runs' pods, as an agent would, before it goes; it
  // goes in any case, or its Node and its loop (which keeps jest from exiting) would outlive the suite.
  try {
    await waitFor('the pods on the fake provider to be gone', async () => (await provider.pods()).length === 0);
  } finally {
    await provider.stop();
  }
});

test.concurrent('every minute a run starts on schedule, on a provider node, and the status follows it', async () => {
  const name = await createCronWorkload(namespace, { schedule: '* * * * *' }, { seconds: 1, exitCode: 0 });
  const cw = await statusOf(namespace, name, 'a successful run in the history', (c) => c.status?.history?.[0]?.result === 'Succeeded', 100_000);
  const status = cw.status!;
  const run = status.history![0]!;
  expect(run).toMatchObject({ name: `${name}-${unixMinutes(status.lastScheduleTime!)}`, exitCode: 0 });
  expect(run.durationSeconds).toBeGreaterThanOrEqual(0);
  expect(Date.parse(status.lastScheduleTime!) % MINUTE).toBe(0);
  expect(Date.parse(status.nextScheduleTime!)).toBeGreaterThan(Date.parse(status.lastScheduleTime!));
  expect(Date.parse(status.lastSuccessfulTime!)).toBeGreaterThanOrEqual(Date.parse(status.lastScheduleTime!));
  expect(status.observedGeneration).toBe(1);
  expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Scheduled' });

  const [job] = await jobs(namespace, name);
  expect(job?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'CronWorkload', name, controller: true });
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `job-name=${run.name}` });
  expect(pods.items[0]?.spec?.nodeName).toBe(provider.nodeName);
  expect(await events(namespace, name, 'Started')).toHaveLength(1);
  // Recorded just after the status that says the run succeeded: it may not be there yet.
  const succeeded = await waitFor('a RunSucceeded event', async () => {
    const found = await events(namespace, name, 'RunSucceeded');
    return found.length > 0 ? found : undefined;
  });
  expect(succeeded).toHaveLength(1);
  // The logs of a finished run stay readable: its Job and pod are kept while it is in the history.
  expect(job?.spec?.ttlSecondsAfterFinished).toBeUndefined();
}, TIMEOUT);

test.concurrent('Forbid skips the run due while another is in progress, and says so in an Event', async () => {
  // A run by hand that keeps running; the schedule's next run is due within a minute.
  const name = await createCronWorkload(namespace, { schedule: '* * * * *', concurrencyPolicy: 'Forbid' }, { seconds: 3600, exitCode: 0 }, { [RUN_NOW]: 'long' });
  const busy = await statusOf(namespace, name, 'the run by hand in progress', (c) => c.status?.active?.length === 1);
  const [skipped] = await waitFor('a RunSkipped event', async () => {
    const found = await events(namespace, name, 'RunSkipped');
    return found.length > 0 ? found : undefined;
  }, { timeoutMs: 130_000 });
  const skippedMessage = new RegExp(`^the run due at (\\S+) was skipped: run ${busy.status!.active![0]} is still in progress and concurrencyPolicy is Forbid$`);
  expect(skipped?.message).toMatch(skippedMessage);
  const skippedAt = skippedMessage.exec(skipped!.message!)![1]!;
  // Skipped for good: no Job for it, and the next run due is a later one.
  expect((await jobs(namespace, name)).map((j) => j.metadata!.name)).toEqual(busy.status!.active);
  const after = await statusOf(namespace, name, 'a next run after the skipped one', (c) => Date.parse(c.status?.nextScheduleTime ?? '') > Date.parse(skippedAt));
  expect(after.status?.active).toEqual(busy.status?.active);
}, TIMEOUT);

test.concurrent('Replace stops the run in progress and starts the due one', async () => {
  // A run by hand that keeps running; the schedule's next run is due within a minute.
  const name = await createCronWorkload(namespace, { schedule: '* * * * *', concurrencyPolicy: 'Replace' }, { seconds: 3600, exitCode: 0 }, { [RUN_NOW]: 'long' });
  const first = await statusOf(namespace, name, 'the run by hand in progress', (c) => c.status?.active?.length === 1);
  const firstRun = first.status!.active![0]!;
  const second = await statusOf(namespace, name, 'the run by hand replaced by the scheduled one', (c) => c.status?.active?.length === 1 && c.status.active[0] !== firstRun, 100_000);
  const secondRun = second.status!.active![0]!;
  expect(secondRun).toBe(`${name}-${unixMinutes(second.status!.lastScheduleTime!)}`);
  await waitFor(`${firstRun} deleted`, async () => ((await jobs(namespace, name)).map((j) => j.metadata!.name).join() === secondRun ? true : undefined));
  const [replaced] = await events(namespace, name, 'RunReplaced');
  expect(replaced?.message).toMatch(new RegExp(`^stopping ${firstRun}: the run due at .* replaces it`));
}, TIMEOUT);

test.concurrent('a failing run is recorded as failed, with its exit code', async () => {
  const name = await createCronWorkload(namespace, { schedule: '0 0 1 1 *' }, { seconds: 0, exitCode: 3 }, { [RUN_NOW]: 'fail' });
  const cw = await statusOf(namespace, name, 'a failed run in the history', (c) => c.status?.history?.[0]?.result === 'Failed', 60_000);
  expect(cw.status!.history![0]).toMatchObject({ result: 'Failed', exitCode: 3 });
  expect(cw.status!.lastSuccessfulTime).toBeUndefined();
  expect(cw.status!.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'RunFailed' });
  const failed = await waitFor('a RunFailed event', async () => (await events(namespace, name, 'RunFailed'))[0]);
  expect(failed.type).toBe('Warning');
  expect(failed.message).toMatch(/failed with exit code 3/);
}, TIMEOUT);

test.concurrent('a run by hand: one run for each new value of lattice.dev/run-now', async () => {
  const name = await createCronWorkload(namespace, { schedule: '0 0 1 1 *' }, { seconds: 0, exitCode: 0 }, { [RUN_NOW]: 'first' });
  await statusOf(namespace, name, 'the first run by hand finished', (c) => c.status?.history?.[0]?.result === 'Succeeded');
  // The same value again (a re-apply by a GitOps tool), with a change that makes it reconcile.
  await kubectl(['label', '-n', namespace, `cronworkload/${name}`, 'touched=yes']);
  await annotate(namespace, name, 'first');
  await annotate(namespace, name, 'second');
  const cw = await statusOf(namespace, name, 'two runs by hand finished', (c) => c.status?.history?.filter((r) => r.result === 'Succeeded').length === 2);
  expect(await jobs(namespace, name)).toHaveLength(2);
  expect(await events(namespace, name, 'Started')).toHaveLength(2);
  expect(cw.metadata.annotations?.['lattice.dev/run-now-handled']).toBe('second');
  expect(cw.status!.lastScheduleTime).toBeDefined();
}, TIMEOUT);

test.concurrent('the history keeps as many runs as the limits say, and the Jobs of older runs are deleted', async () => {
  const name = await createCronWorkload(
    namespace,
    { schedule: '0 0 1 1 *', successfulRunsHistoryLimit: 1, failedRunsHistoryLimit: 0 },
    { seconds: 0, exitCode: 0 },
    { [RUN_NOW]: 'a' },
  );
  const first = await statusOf(namespace, name, 'run a finished', (c) => c.status?.history?.[0]?.result === 'Succeeded');
  const firstRun = first.status!.history![0]!.name;
  await annotate(namespace, name, 'b');
  const cw = await statusOf(
    namespace,
    name,
    'run b finished, and alone in the history',
    (c) => c.status?.history?.length === 1 && c.status.history[0]!.name !== firstRun && c.status.history[0]!.result === 'Succeeded',
  );
  const kept = cw.status!.history![0]!.name;
  await waitFor(`the Job of ${firstRun} deleted`, async () => ((await jobs(namespace, name)).map((j) => j.metadata!.name).join() === kept ? true : undefined));
  // With its Job went its pod, so nothing of the old run is left behind.
  await waitFor(`the pod of ${firstRun} deleted`, async () => ((await core.listNamespacedPod({ namespace, labelSelector: `job-name=${firstRun}` })).items.length === 0 ? true : undefined));
}, TIMEOUT);

test.concurrent('a restart of the controller across a scheduled time starts that run exactly once', async () => {
  const ns = uniqueName('it-cwl-restart');
  await kubectl(['create', 'namespace', ns]);
  provider.namespaces.add(ns);
  let own = await startController(ns);
  try {
    const name = await createCronWorkload(ns, { schedule: '* * * * *' }, { seconds: 1, exitCode: 0 });
    // A run due far enough ahead to stop the controller before it.
    const due = await statusOf(ns, name, 'a next run at least 5 s away', (c) => Date.parse(c.status?.nextScheduleTime ?? '') - Date.now() > 5_000, 70_000);
    const dueAt = due.status!.nextScheduleTime!;
    await own.stop();
    await waitFor(`${dueAt} to pass while the controller is down`, () => Date.now() > Date.parse(dueAt) + 2_000, { timeoutMs: 70_000 });
    const runName = `${name}-${unixMinutes(dueAt)}`;
    expect((await jobs(ns, name)).map((j) => j.metadata!.name)).not.toContain(runName);

    own = await startController(ns);
    const cw = await statusOf(ns, name, `the run due at ${dueAt} finished`, (c) => c.status?.history?.some((r) => r.name === runName && r.result === 'Succeeded') ?? false);
    expect(cw.status!.lastScheduleTime).toBe(dueAt);
    const started = (await events(ns, name, 'Started')).filter((e) => e.message?.includes(runName));
    expect(started).toHaveLength(1);
    expect(await events(ns, name, 'MissedSchedule')).toHaveLength(0);
    const scheduled = (await jobs(ns, name)).map((j) => j.metadata!.annotations!['lattice.dev/scheduled-at']);
    expect(scheduled.filter((t) => t === new Date(dueAt).toISOString())).toHaveLength(1);
  } finally {
    await own.stop();
    await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
  }
}, TIMEOUT);
