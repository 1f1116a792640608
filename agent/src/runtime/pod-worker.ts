// The life of one pod on this node, as the kubelet's pod worker leads it: a sandbox holding the
// pod's network, volumes, init containers one after another to completion, then the app
// containers, each restarted per the restart policy with back-off, probed, and reported.
//
// Everything that changes the pod runs through one queue; `reconcile` is level-triggered: it looks
// at what each container's last run says and does the next step, so a Docker event, a timer, an
// update and an agent restart all take the same path.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Container, PlatformImages, Pod, PodEvent, PodStatus } from '@lattice/protocol';
import { type AdoptedPod, observePods } from './adoption.js';
import { type Backoff, INITIAL_BACKOFF_MS, backoffRemaining, nextBackoff } from './backoff.js';
import { containerCreateOptions, nonRootViolation } from './container-config.js';
import type { DiskTargets } from './disk-usage.js';
import { dockerMessage, ignoreGone, isNotFound } from './docker-errors.js';
import { type ImageFacts, ImagePullError, ensureImage, platformImage } from './images.js';
import { LABEL, SANDBOX, containerLabels, containerName, podHostname } from './naming.js';
import type { NamespaceNetworks } from './networks.js';
import { probeCheck } from './probe-checks.js';
import { ContainerProbes } from './probes.js';
import { type Sandbox, sandboxRunning, startSandbox } from './sandbox.js';
import { SerialQueue } from './serial-queue.js';
import {
  type ContainerHistory,
  type ContainerRun,
  type ContainerView,
  deletedPodStatus,
  podStatus,
  rfc3339,
  runFromInspect,
  succeeded,
} from './status.js';
import { ContainerConfigError, type PreparedVolume, containerMounts, diskEmptyDirs, emptyDirVolumes, podStateDir, prepareVolumes, removePodVolumes } from './volumes.js';
import { writeHostsFile } from '../tunnels/hosts.js';
import type { Ceiling } from './resources.js';

/** What every pod worker of a runtime shares. */
export interface WorkerContext {
  docker: Docker;
  nodeName: string;
  images: PlatformImages;
  stateDir: string;
  logger: Logger;
  networks: NamespaceNetworks;
  /** The engine mounts volume subpaths (API 1.45+). */
  volumeSubpaths: boolean;
  onStatus(status: PodStatus): void;
  onEvent(event: PodEvent): void;
  /** The /etc/hosts lines naming the Services of a namespace (see agent/src/tunnels/services.ts). */
  serviceHosts?: (namespace: string) => Promise<string[]>;
  /** The limits of a container that sets none (the provider's offer). */
  ceiling?: () => Ceiling;
}

interface ContainerRecord extends ContainerView {
  readonly spec: Container;
  /** Back-off between restarts after the container ended. */
  crashBackoff?: Backoff;
  /** Back-off between attempts that failed before a container ran (pull, mount, create). */
  startBackoff?: Backoff;
  probes?: ContainerProbes;
}

/** A container Docker could no longer find (removed behind the agent's back), as the kubelet reports it. */
function vanished(run: ContainerRun): ContainerRun {
  return { ...run, running: false, exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located' };
}

/** How long a postStart hook may take: the kubelet sets no bound, a stranger's machine needs one. */
const POST_START_TIMEOUT_MS = 5 * 60_000;

function finishedMs(run: ContainerRun): number {
  return Date.parse(run.finishedAt) || Date.now();
}

export class PodWorker {
  readonly uid: string;
  namespace: string;
  gracePeriodSeconds = 30;
  private pod: Pod | undefined;
  /** The revision of the containers in Docker (see AdoptedPod.revision). */
  private revision: string | null | undefined;
  private podName: string;
  private startTime: string;
  private sandbox: Sandbox | undefined;
  /** The pod's containers by name, init containers first, in spec order. */
  private readonly records = new Map<string, ContainerRecord>();
  /** Runs found in Docker (adopted, or kept over a re-creation) until a spec claims them. */
  private readonly history = new Map<string, ContainerHistory>();
  private volumes: Map<string, PreparedVolume> | undefined;
  private readonly queue = new SerialQueue();
  /** Aborts an image pull when the pod goes away. */
  private readonly abort = new AbortController();
  private wakeAt: number | undefined;
  private wakeTimer: NodeJS.Timeout | undefined;
  /** A pass failed midway: the next one first re-reads the pod from Docker. */
  private resyncNeeded = false;
  private terminating = false;
  private stopped = false;
  /** Why the pod was evicted (disk-usage.ts): its containers are stopped and none is started again. */
  private evicted: string | undefined;
  private lastReported = '';
  private readonly log: Logger;

  constructor(
    private readonly ctx: WorkerContext,
    identity: { uid: string; namespace: string; name: string },
    adopted?: AdoptedPod,
  ) {
    this.uid = identity.uid;
    this.namespace = identity.namespace;
    this.podName = identity.name;
    this.startTime = adopted?.startTime || rfc3339(Date.now());
    this.log = ctx.logger.child({ pod: `${identity.namespace}/${identity.name}`, uid: identity.uid });
    if (adopted) {
      this.revision = adopted.revision;
      this.sandbox = adopted.sandbox;
      this.gracePeriodSeconds = adopted.gracePeriodSeconds;
      for (const [name, history] of adopted.containers) this.history.set(name, history);
    }
  }

  /** Runs `pod` (new, unchanged, or a new revision to re-create); resolves after the first pass. */
  update(pod: Pod): Promise<void> {
    return this.queue.run(async () => {
      if (this.terminating || this.stopped) return;
      const known = this.pod ? this.pod.revision : this.revision;
      if (known !== undefined && known !== pod.revision) {
        await this.recreate(pod);
      } else if (!this.pod) {
        this.attach(pod);
      }
      await this.reconcile();
    });
  }

  /** Docker says one of this pod's containers died. */
  containerDied(containerId: string): void {
    this.background('handling a container death', async () => {
      if (this.terminating || this.stopped) return;
      const entry = [...this.entries()].find(([, e]) => e.current?.id === containerId)?.[1];
      if (entry) {
        await this.refresh(entry);
      } else if (this.sandbox?.id === containerId) {
        this.sandbox.running = false;
      } else {
        return; // an earlier run, already accounted for
      }
      await this.reconcile();
    });
  }

  /**
   * Stops the containers (SIGTERM, SIGKILL after `gracePeriodSeconds`), removes them, the
   * sandbox, the emptyDir volumes and the generated files, then reports the pod deleted.
   */
  terminate(gracePeriodSeconds: number): Promise<void> {
    this.terminating = true;
    this.abort.abort();
    this.clearWake();
    this.stopProbes();
    // A removal that outlasts its grace by far is a bug (once seen, not yet understood): say
    // which step it waits in, so that the log shows it.
    let step = 'waiting for the pod\'s earlier work';
    const slow = setTimeout(() => this.log.warn({ step, gracePeriodSeconds }, 'pod removal is taking long'), (gracePeriodSeconds + 15) * 1000);
    return this.queue
      .run(async () => {
        step = 'stopping its containers';
        await this.stopRunning(gracePeriodSeconds);
        const { docker, nodeName, stateDir } = this.ctx;
        step = 'removing its containers';
        const left = await docker.listContainers({
          all: true,
          filters: { label: [`${LABEL.node}=${nodeName}`, `${LABEL.podUid}=${this.uid}`] },
        });
        await Promise.all(left.map((c) => ignoreGone(docker.getContainer(c.Id).remove({ force: true }))));
        step = 'removing its volumes';
        await removePodVolumes(docker, nodeName, this.uid, stateDir);
        this.report(true);
        this.log.info('pod removed');
      })
      .finally(() => clearTimeout(slow));
  }

  /**
   * What counts against the pod's disk bounds (disk-usage.ts): its running containers' writable
   * layers and its disk-backed emptyDir volumes; nothing once it is going or gone.
   */
  diskTargets(): DiskTargets {
    if (this.terminating || this.stopped || this.evicted !== undefined || !this.pod) return { containers: [], emptyDirs: [] };
    const containers = [...this.records.values()]
      .filter((rec) => rec.current?.running)
      .map((rec) => ({ id: rec.current!.id, name: rec.spec.name, limitBytes: rec.spec.resources.ephemeralStorageLimitBytes }));
    return { containers, emptyDirs: diskEmptyDirs(this.pod) };
  }

  /** Evicts the pod as the kubelet does: its containers killed, none restarted, the pod Failed. */
  evict(message: string): Promise<void> {
    return this.queue.run(async () => {
      if (this.terminating || this.stopped || this.evicted !== undefined) return;
      this.evicted = message;
      this.log.warn({ message }, 'evicting the pod');
      this.emit('Warning', 'Evicted', message);
      this.clearWake();
      for (const rec of this.records.values()) this.forgetRun(rec);
      await this.stopRunning(0);
      this.report();
    });
  }

  /** Stops timers and probes, leaving the containers running for the next agent to adopt. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.clearWake();
    this.stopProbes();
    await this.queue.idle();
  }

  /** The Docker container behind `kubectl logs [--previous]`. */
  logTarget(container: string, previous: boolean): { id: string; tty: boolean } {
    const rec = this.record(container);
    const run = previous ? rec.previous : rec.current;
    if (!run) {
      throw new Error(
        previous
          ? `previous terminated container "${container}" in pod "${this.podName}" not found`
          : `container "${container}" in pod "${this.podName}" is waiting to start: ${rec.waiting?.reason ?? 'ContainerCreating'}`,
      );
    }
    return { id: run.id, tty: rec.spec.tty };
  }

  /** The running Docker container behind `kubectl exec`. */
  execTarget(container: string): string {
    const run = this.record(container).current;
    if (!run?.running) throw new Error(`container "${container}" in pod "${this.podName}" is not running`);
    return run.id;
  }

  /** The Services of the namespace changed: the running containers' /etc/hosts follows. */
  refreshHosts(): Promise<void> {
    // In the pod's queue: a write racing its removal made the removal fail (ENOTEMPTY), and the
    // pod stayed Terminating; once it is being removed there is nothing to write.
    return this.queue.run(async () => {
      if (this.terminating || this.stopped || !this.pod || !this.sandbox) return;
      await this.writeHosts(this.pod, this.sandbox).catch((err) => this.log.warn({ err }, 'rewriting /etc/hosts failed'));
    });
  }

  /** The pod's /etc/hosts: its own names and its namespace's Services (agent/src/tunnels/hosts.ts). */
  private async writeHosts(pod: Pod, sandbox: Sandbox): Promise<string> {
    const services = (await this.ctx.serviceHosts?.(pod.namespace)) ?? [];
    return writeHostsFile(podStateDir(this.ctx.stateDir, pod.uid), { podIp: sandbox.ip, hostname: podHostname(pod), services });
  }

  /** The pod IP a tunnel connects to: the running sandbox's address on its namespace network. */
  dialTarget(): string {
    if (!this.sandbox?.running || !this.sandbox.ip) throw new Error(`pod "${this.podName}" has no running network sandbox`);
    return this.sandbox.ip;
  }

  private record(name: string): ContainerRecord {
    const rec = this.records.get(name);
    if (!rec) throw new Error(`container "${name}" is not valid for pod "${this.podName}"`);
    return rec;
  }

  /** Every container's history by name: the spec's records and what no spec claimed yet. */
  private *entries(): Generator<[string, ContainerHistory]> {
    yield* this.records;
    yield* this.history;
  }

  private attach(pod: Pod): void {
    this.pod = pod;
    this.revision = pod.revision;
    this.podName = pod.name;
    this.namespace = pod.namespace;
    this.gracePeriodSeconds = pod.terminationGracePeriodSeconds;
    this.records.clear();
    const specs: [Container, boolean][] = [...pod.initContainers.map((c): [Container, boolean] => [c, true]), ...pod.containers.map((c): [Container, boolean] => [c, false])];
    for (const [spec, init] of specs) {
      const history = this.history.get(spec.name);
      this.records.set(spec.name, {
        spec,
        init,
        restartCount: history?.restartCount ?? 0,
        current: history?.current,
        previous: history?.previous,
        started: false,
        ready: false,
      });
    }
    this.history.clear();
  }

  /**
   * A new revision: the containers are stopped and created again from the new spec (fresh files
   * too); the sandbox, the pod IP and the emptyDir volumes stay, as do restart counts and last runs.
   */
  private async recreate(pod: Pod): Promise<void> {
    this.log.info({ from: this.revision, to: pod.revision }, 'pod revision changed: re-creating its containers');
    this.stopProbes();
    await this.stopRunning(this.gracePeriodSeconds);
    const kept = new Set([...pod.initContainers, ...pod.containers].map((c) => c.name));
    for (const [name, entry] of [...this.entries()]) {
      await this.retire(entry);
      if (kept.has(name)) {
        this.history.set(name, { restartCount: entry.restartCount, previous: entry.previous });
      } else {
        // A container the new spec dropped: its last run would outlive it under the old revision.
        if (entry.previous) await ignoreGone(this.ctx.docker.getContainer(entry.previous.id).remove({ force: true }));
        this.history.delete(name);
      }
    }
    this.volumes = undefined;
    this.attach(pod);
  }

  private async reconcile(): Promise<void> {
    const pod = this.pod;
    if (!pod || this.terminating || this.stopped || this.evicted !== undefined) return;
    this.clearWake();
    try {
      if (this.resyncNeeded) await this.resync();
      if (this.sandbox?.running === false && this.needsSandbox()) await this.replaceSandbox();
      const records = [...this.records.values()];
      const pendingInit = records.find((rec) => rec.init && !succeeded(rec));
      if (pendingInit) {
        await this.syncContainer(pod, pendingInit);
      } else {
        for (const rec of records) await this.syncContainer(pod, rec);
      }
    } catch (err) {
      // Docker itself failed (not the pod), maybe between two steps: try again later, from what
      // Docker then holds, rather than give up on the pod.
      this.log.error({ err }, 'pod sync failed; retrying');
      this.resyncNeeded = true;
      this.wakeIn(INITIAL_BACKOFF_MS);
    } finally {
      this.report();
      this.armWake();
    }
  }

  /** Takes the pod's sandbox and runs from Docker again, as an agent restart would. */
  private async resync(): Promise<void> {
    const [observed] = await observePods(this.ctx.docker, this.ctx.nodeName, this.uid);
    this.sandbox = observed?.sandbox;
    for (const [name, rec] of this.records) {
      const found = observed?.containers.get(name);
      if (found?.current?.id !== rec.current?.id) this.forgetRun(rec);
      rec.restartCount = found?.restartCount ?? 0;
      rec.current = found?.current;
      rec.previous = found?.previous;
    }
    this.resyncNeeded = false;
  }

  private shouldRestart(rec: ContainerRecord): boolean {
    const run = rec.current;
    if (!run || run.running) return false;
    const policy = this.pod?.restartPolicy;
    // Init containers are re-run on failure only, whatever the policy says beyond Never.
    if (rec.init) return run.exitCode !== 0 && policy !== 'Never';
    return policy === 'Always' || (policy === 'OnFailure' && run.exitCode !== 0);
  }

  /** The kubelet makes no new sandbox for a pod whose containers are all done for good. */
  private needsSandbox(): boolean {
    return [...this.records.values()].some((rec) => !rec.current || rec.current.running || this.shouldRestart(rec));
  }

  private async syncContainer(pod: Pod, rec: ContainerRecord): Promise<void> {
    const run = rec.current;
    if (run?.running) {
      this.ensureProbes(rec, run);
      return;
    }
    if (run) {
      if (!this.shouldRestart(rec)) {
        rec.waiting = undefined;
        return;
      }
      const wait = backoffRemaining(rec.crashBackoff, finishedMs(run), Date.now());
      if (wait > 0) {
        this.crashLoopBackOff(pod, rec, wait);
        return;
      }
    }
    await this.startContainer(pod, rec);
  }

  private crashLoopBackOff(pod: Pod, rec: ContainerRecord, wait: number): void {
    const name = rec.spec.name;
    if (rec.waiting?.reason !== 'CrashLoopBackOff') {
      this.emit('Warning', 'BackOff', `Back-off restarting failed container ${name} in pod ${pod.name}_${pod.namespace}(${pod.uid})`);
    }
    const delay = Math.round((rec.crashBackoff?.delayMs ?? 0) / 1000);
    rec.waiting = {
      reason: 'CrashLoopBackOff',
      message: `back-off ${delay}s restarting failed container=${name} pod=${pod.name}_${pod.namespace}(${pod.uid})`,
    };
    this.wakeIn(wait);
  }

  /** Pull, mount, create and start the container's next run; failures become its waiting state. */
  private async startContainer(pod: Pod, rec: ContainerRecord): Promise<void> {
    if (rec.startBackoff) {
      const wait = backoffRemaining(rec.startBackoff, rec.startBackoff.since, Date.now());
      if (wait > 0) {
        this.wakeIn(wait);
        return;
      }
    }
    const { docker } = this.ctx;
    const { spec } = rec;

    let sandbox: Sandbox;
    let volumes: Map<string, PreparedVolume>;
    // Volumes first: the sandbox prepares the emptyDirs.
    try {
      volumes = this.volumes ??= await prepareVolumes(docker, this.ctx.nodeName, pod, this.ctx.stateDir);
    } catch (err) {
      const message = `MountVolume.SetUp failed: ${dockerMessage(err)}`;
      this.startFailed(rec, { reason: 'ContainerCreating', message }, { reason: 'FailedMount', message });
      return;
    }
    try {
      sandbox = await this.ensureSandbox(pod);
    } catch (err) {
      const message = `Failed to create pod sandbox: ${dockerMessage(err)}`;
      this.startFailed(rec, { reason: 'ContainerCreating', message }, { reason: 'FailedCreatePodSandBox', message });
      return;
    }

    let image: ImageFacts;
    try {
      image = await ensureImage(docker, spec, pod.registryAuths, this.abort.signal, (reason, message) => this.emit('Normal', reason, message));
    } catch (err) {
      if (!(err instanceof ImagePullError)) throw err;
      this.pullFailed(rec, err);
      return;
    }

    const nonRoot = nonRootViolation(spec, image.user, pod);
    if (nonRoot) {
      this.startFailed(rec, { reason: 'CreateContainerConfigError', message: nonRoot }, { reason: 'Failed', message: `Error: ${nonRoot}` });
      return;
    }

    let mounts: Docker.MountSettings[];
    try {
      const hosts = await this.writeHosts(pod, sandbox);
      mounts = [...containerMounts(spec, volumes, this.ctx.volumeSubpaths), { Type: 'bind', Source: hosts, Target: '/etc/hosts', ReadOnly: true }];
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      this.startFailed(rec, { reason: 'CreateContainerConfigError', message: err.message }, { reason: 'Failed', message: `Error: ${err.message}` });
      return;
    }
    if (this.terminating || this.stopped) return;

    const restartCount = rec.current || rec.previous ? rec.restartCount + 1 : 0;
    const name = containerName(pod, spec.name, restartCount);
    let created: Docker.Container;
    try {
      created = await docker.createContainer(
        containerCreateOptions({
          name,
          container: spec,
          pod,
          sandboxId: sandbox.id,
          podIp: sandbox.ip,
          labels: this.labels(pod, spec.name, restartCount),
          mounts,
          imageUser: image.user,
          ceiling: this.ctx.ceiling?.(),
        }),
      );
    } catch (err) {
      const message = dockerMessage(err);
      this.startFailed(rec, { reason: 'CreateContainerError', message }, { reason: 'Failed', message: `Error: ${message}` });
      return;
    }
    if (rec.current) rec.crashBackoff = nextBackoff(rec.crashBackoff, finishedMs(rec.current));
    await this.retire(rec);
    rec.restartCount = restartCount;
    rec.waiting = undefined;
    rec.startBackoff = undefined;
    this.emit('Normal', 'Created', `Created container ${spec.name}`);

    try {
      await created.start();
      this.emit('Normal', 'Started', `Started container ${spec.name}`);
    } catch (err) {
      // The run ended before it began (no such executable...): a crash like any other. When the
      // sandbox is what failed it, the next pass makes a new one.
      this.emit('Warning', 'Failed', `Error: ${dockerMessage(err)}`);
      if (this.sandbox) this.sandbox.running = await sandboxRunning(docker, this.sandbox);
    }
    const run = runFromInspect(await created.inspect(), image.imageId);
    rec.current = run;
    if (run.running && (await this.postStart(rec, run.id, sandbox))) {
      this.ensureProbes(rec, run);
    } else {
      this.wakeIn(0);
    }
  }

  /**
   * Runs the container's postStart hook, if it has one, before its probes start, as the kubelet
   * does; false when the hook failed: the container is then killed, to restart as its policy says.
   */
  private async postStart(rec: ContainerRecord, containerId: string, sandbox: Sandbox): Promise<boolean> {
    if (!rec.spec.postStart) return true;
    // A hook still running when the pod is removed holds up nothing: its container is stopped next.
    const { signal } = this.abort;
    let onAbort!: () => void;
    const removed = new Promise<false>((resolve) => (onAbort = () => resolve(false)));
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    const outcome = await Promise.race([probeCheck(this.ctx.docker, sandbox.ip, containerId)(rec.spec.postStart, POST_START_TIMEOUT_MS), removed]).finally(() =>
      signal.removeEventListener('abort', onAbort),
    );
    if (!outcome || this.terminating || this.stopped) return false;
    if (outcome.ok) return true;
    this.emit('Warning', 'FailedPostStartHook', `PostStart hook of container ${rec.spec.name} failed: ${outcome.message}`);
    this.emit('Normal', 'Killing', `Container ${rec.spec.name} failed its postStart hook, will be restarted as its restart policy says`);
    await ignoreGone(this.ctx.docker.getContainer(containerId).stop({ t: this.gracePeriodSeconds }));
    return false;
  }

  /**
   * Stops a container as the kubelet does: its preStop hook first, within the grace period, then
   * SIGTERM with what is left of it (at least 2 s), then SIGKILL.
   */
  private async stopContainer(spec: Container | undefined, containerId: string, gracePeriodSeconds: number): Promise<void> {
    let left = gracePeriodSeconds;
    if (spec?.preStop && this.sandbox && gracePeriodSeconds > 0) {
      const began = Date.now();
      const outcome = await probeCheck(this.ctx.docker, this.sandbox.ip, containerId)(spec.preStop, gracePeriodSeconds * 1000);
      if (!outcome.ok) this.emit('Warning', 'FailedPreStopHook', `PreStop hook of container ${spec.name} failed: ${outcome.message}`);
      left = Math.max(2, gracePeriodSeconds - Math.ceil((Date.now() - began) / 1000));
    }
    await ignoreGone(this.ctx.docker.getContainer(containerId).stop({ t: left }));
  }

  /** Records a failure before the container could run, and when to try again. */
  private startFailed(rec: ContainerRecord, waiting: { reason: string; message: string }, event: { reason: string; message: string }): void {
    if (this.terminating || this.stopped) return;
    rec.waiting = waiting;
    this.emit('Warning', event.reason, event.message);
    rec.startBackoff = nextBackoff(rec.startBackoff, Date.now());
    this.wakeIn(rec.startBackoff.delayMs);
  }

  private pullFailed(rec: ContainerRecord, err: ImagePullError): void {
    if (this.terminating || this.stopped) return;
    const { image } = rec.spec;
    if (err.reason === 'ErrImageNeverPull') {
      this.startFailed(rec, { reason: err.reason, message: err.message }, { reason: err.reason, message: err.message });
      return;
    }
    this.emit('Warning', 'Failed', `Failed to pull image "${image}": ${err.message}`);
    this.startFailed(rec, { reason: 'ErrImagePull', message: err.message }, { reason: 'Failed', message: 'Error: ErrImagePull' });
    this.report();
    // The kubelet's next sync finds the pull in back-off: that is what the pod shows until the retry,
    // with the last pull's error, as the kubelet has said since 1.30.
    rec.waiting = { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${err.message}` };
    this.emit('Normal', 'BackOff', `Back-off pulling image "${image}"`);
  }

  private async ensureSandbox(pod: Pod): Promise<Sandbox> {
    if (this.sandbox?.running) return this.sandbox;
    this.sandbox = await startSandbox(this.ctx.docker, {
      image: platformImage(this.ctx.images, 'sandbox'),
      pod,
      network: await this.ctx.networks.ensure(pod.namespace),
      labels: this.labels(pod, SANDBOX, 0),
      emptyDirs: emptyDirVolumes(pod),
      signal: this.abort.signal,
    });
    return this.sandbox;
  }

  /**
   * The sandbox died (killed, or the machine rebooted while the agent was away): the kubelet
   * kills the pod's containers, creates a new sandbox, and runs the init containers again.
   */
  private async replaceSandbox(): Promise<void> {
    this.emit('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    this.stopProbes();
    await this.stopRunning(this.gracePeriodSeconds);
    if (this.sandbox) await ignoreGone(this.ctx.docker.getContainer(this.sandbox.id).remove({ force: true }));
    this.sandbox = undefined;
    for (const rec of this.records.values()) {
      if (rec.init) await this.retire(rec);
    }
  }

  private labels(pod: Pod, container: string, restartCount: number): Record<string, string> {
    return containerLabels({ nodeName: this.ctx.nodeName, pod, container, restartCount, startTime: this.startTime });
  }

  /** The current run becomes the previous one; the run before that is removed from Docker. */
  private async retire(entry: ContainerHistory): Promise<void> {
    if (!entry.current) return;
    if (entry.previous) await ignoreGone(this.ctx.docker.getContainer(entry.previous.id).remove({ force: true }));
    entry.previous = entry.current;
    entry.current = undefined;
  }

  /** Re-reads the current run from Docker; a run that ended loses its probes and readiness. */
  private async refresh(entry: ContainerHistory | ContainerRecord): Promise<void> {
    const run = entry.current;
    if (!run) return;
    try {
      entry.current = runFromInspect(await this.ctx.docker.getContainer(run.id).inspect(), run.imageId);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      entry.current = vanished(run);
    }
    if (!entry.current.running && 'spec' in entry) this.forgetRun(entry);
  }

  /** The run the record's probes, startup and readiness were about is over. */
  private forgetRun(rec: ContainerRecord): void {
    rec.probes?.stop();
    rec.probes = undefined;
    rec.started = false;
    rec.ready = false;
  }

  /** Stops every running container of the pod at once, each with its Killing event. */
  private async stopRunning(gracePeriodSeconds: number): Promise<void> {
    await Promise.all(
      [...this.entries()].map(async ([name, entry]) => {
        if (!entry.current?.running) return;
        this.emit('Normal', 'Killing', `Stopping container ${name}`);
        await this.stopContainer(this.records.get(name)?.spec, entry.current.id, gracePeriodSeconds);
        await this.refresh(entry);
      }),
    );
  }

  private ensureProbes(rec: ContainerRecord, run: ContainerRun): void {
    if (rec.probes || !this.sandbox) return;
    const probes = new ContainerProbes(rec.spec, probeCheck(this.ctx.docker, this.sandbox.ip, run.id), {
      started: () => {
        rec.started = true;
        this.report();
      },
      ready: (ready) => {
        rec.ready = ready;
        this.report();
      },
      unhealthy: (kind, message) => {
        this.emit('Warning', 'Unhealthy', `${kind[0]!.toUpperCase()}${kind.slice(1)} probe failed: ${message}`);
      },
      failed: (kind) => this.background(`killing a container that failed its ${kind} probe`, () => this.killUnhealthy(rec, run.id, kind)),
    });
    rec.probes = probes;
    probes.start(Date.parse(run.startedAt) || Date.now());
  }

  /** Kills a container its liveness or startup probe gave up on; its death then restarts it. */
  private async killUnhealthy(rec: ContainerRecord, containerId: string, kind: 'startup' | 'liveness'): Promise<void> {
    if (this.terminating || this.stopped || rec.current?.id !== containerId || !rec.current.running) return;
    this.emit('Normal', 'Killing', `Container ${rec.spec.name} failed ${kind} probe, will be restarted`);
    await this.stopContainer(rec.spec, containerId, this.gracePeriodSeconds);
  }

  private stopProbes(): void {
    for (const rec of this.records.values()) {
      rec.probes?.stop();
      rec.probes = undefined;
    }
  }

  private wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.wakeAt === undefined || at < this.wakeAt) this.wakeAt = at;
  }

  private armWake(): void {
    clearTimeout(this.wakeTimer);
    if (this.wakeAt === undefined || this.terminating || this.stopped) return;
    this.wakeTimer = setTimeout(() => this.background('syncing the pod', () => this.reconcile()), Math.max(0, this.wakeAt - Date.now()));
    this.wakeTimer.unref();
  }

  private clearWake(): void {
    clearTimeout(this.wakeTimer);
    this.wakeAt = undefined;
  }

  /** Queues work nobody awaits; a failure is logged and the next pass starts from Docker's state. */
  private background(what: string, task: () => Promise<void>): void {
    this.queue.run(task).catch((err: unknown) => {
      this.log.error({ err }, `${what} failed`);
      this.resyncNeeded = true;
      this.wakeIn(INITIAL_BACKOFF_MS);
      this.armWake();
    });
  }

  private emit(type: PodEvent['type'], reason: string, message: string): void {
    this.ctx.onEvent({ podUid: this.uid, type, reason, message });
  }

  /** Reports the pod's status if it changed since the last report. */
  private report(deleted = false): void {
    const status = this.status(deleted);
    if (!status) return;
    const key = JSON.stringify(status);
    if (key === this.lastReported) return;
    this.lastReported = key;
    this.ctx.onStatus(status);
  }

  private status(deleted: boolean): PodStatus | undefined {
    if (this.pod) {
      const status = podStatus(this.pod, [...this.records.values()], { podIp: this.sandbox?.ip ?? '', startTime: this.startTime, deleted });
      return this.evicted === undefined ? status : { ...status, phase: 'Failed', reason: 'Evicted', message: this.evicted };
    }
    // Never given this pod (an orphan, or a delete for a pod it never ran): only its deletion is news.
    return deleted ? deletedPodStatus(this.uid) : undefined;
  }
}
