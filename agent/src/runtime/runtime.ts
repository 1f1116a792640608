// The agent's container runtime: the pods the gateway assigns to this node, run as local Docker
// containers with kubelet semantics. The connection code feeds it the desired pods and streams
// what it reports (pod status, events) back to the gateway.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { ExecOptions, LogOptions, PlatformImages, Pod, PodEvent, PodStatus } from '@lattice/protocol';
import { observePods } from './adoption.js';
import { Builds } from './build/builds.js';
import { DiskWatch } from './disk-watch.js';
import { ContainerDeathWatch } from './docker-events.js';
import { type ExecSession, startExec } from './exec.js';
import { containerLogs } from './logs.js';
import { LABEL } from './naming.js';
import { HostHelper } from './host-helper.js';
import { HostIsolation } from './isolation.js';
import { NamespaceNetworks, type ServiceAddresses } from './networks.js';
import { PodWorker, type WorkerContext } from './pod-worker.js';
import type { StdioChunk } from './stdio.js';
import { deleteLocalVolume, podStateDir } from './volumes.js';
import type { TailnetExposures } from '../tailnet/exposures.js';
import type { Ceiling } from './resources.js';

export interface DockerRuntimeOptions {
  docker: Docker;
  /** This node's name: every container it creates is labelled with it, and only those are its. */
  nodeName: string;
  /**
   * The images the agent runs for itself: the pod sandbox (anything that can `sleep infinity`),
   * the host network helper's (iptables, iproute2: host-helper.ts) and the confined git fetch's
   * (build/git.ts). Read when used: the gateway names them once connected (see cli.ts).
   */
  images: PlatformImages;
  /** Where the agent writes pods' files volumes; must be on the Docker host (it is bind-mounted). */
  stateDir: string;
  logger: Logger;
  onStatus: (status: PodStatus) => void;
  onEvent: (event: PodEvent) => void;
  /** Puts pods' `expose: tailnet` ports on their tailnet (onStatus adds their address); none: no tailnet. */
  tailnet?: Pick<TailnetExposures, 'want' | 'drop' | 'stop'>;
  /** The /etc/hosts lines of a namespace's Services (agent/src/tunnels/services.ts); none: no Service names. */
  serviceHosts?: (namespace: string) => Promise<string[]>;
  /**
   * What the provider lends the cluster now (its offer): the limits of a container that sets
   * none, as a kubelet's pods are bounded by the node's allocatable. None: unbounded.
   */
  ceiling?: () => Ceiling;
}

/** Docker Engine 26 (API 1.45) mounts a subpath of a named volume. */
const VOLUME_SUBPATH_API = [1, 45] as const;

function apiAtLeast(version: string, [major, minor]: readonly [number, number]): boolean {
  const [vMajor = 0, vMinor = 0] = version.split('.').map(Number);
  return vMajor > major || (vMajor === major && vMinor >= minor);
}

export class DockerRuntime {
  private readonly workers = new Map<string, PodWorker>();
  private readonly networks: NamespaceNetworks;
  private readonly deaths: ContainerDeathWatch;
  private readonly builds: Builds;
  private readonly disk: DiskWatch;
  private context: WorkerContext | undefined;

  constructor(private readonly options: DockerRuntimeOptions) {
    const helper = new HostHelper(options.docker, options.images);
    this.networks = new NamespaceNetworks(options.docker, options.logger, new HostIsolation(helper, options.logger), helper);
    // A build pod's log printer needs only a shell: the sandbox image has one.
    const podDir = (uid: string) => podStateDir(options.stateDir, uid);
    this.builds = new Builds({ docker: options.docker, images: options.images, podDir, logger: options.logger });
    this.deaths = new ContainerDeathWatch(options.docker, options.nodeName, options.logger, ({ containerId, labels }) => {
      const uid = labels[LABEL.podUid];
      if (uid) this.workers.get(uid)?.containerDied(containerId);
    });
    this.disk = new DiskWatch(options.docker, options.nodeName, () => this.workers.values(), () => options.ceiling?.().diskBytes ?? 0, options.logger);
  }

  /**
   * Adopts the containers this node left in Docker (an agent restart) without restarting any,
   * then watches Docker for container deaths. Call once, before anything else.
   */
  async start(): Promise<void> {
    const { docker, nodeName, logger } = this.options;
    const { ApiVersion } = await docker.version();
    const ctx: WorkerContext = {
      ...this.options,
      onStatus: (status) => this.options.onStatus(this.builds.observe(status)),
      networks: this.networks,
      volumeSubpaths: apiAtLeast(ApiVersion, VOLUME_SUBPATH_API),
    };
    this.context = ctx;
    // Deaths from this moment on are replayed by the watch, so none falls between list and watch.
    const since = Date.now() / 1000;
    const adopted = await observePods(docker, nodeName);
    for (const pod of adopted) {
      this.workers.set(pod.uid, new PodWorker(ctx, { uid: pod.uid, namespace: pod.namespace, name: pod.podName }, pod));
    }
    logger.info({ pods: adopted.length }, 'adopted the pods Docker holds for this node');
    this.deaths.start(since);
    this.disk.start();
  }

  /**
   * The complete set of pods this node must run: missing ones are created, ones absent from it
   * stopped and removed (gracefully), and unchanged ones left alone, as are the `kept` ones (run
   * as they are, never started: the gateway cannot describe them now).
   */
  async sync(pods: Pod[], kept: readonly string[] = []): Promise<void> {
    const wanted = new Set([...pods.map((p) => p.uid), ...kept]);
    const unwanted = [...this.workers.values()].filter((w) => !wanted.has(w.uid));
    await Promise.all([...unwanted.map((w) => this.remove(w.uid, w.gracePeriodSeconds)), ...pods.map((p) => this.upsert(p))]);
  }

  /**
   * One pod added or changed (a new revision re-creates its containers). Resolves once its
   * containers were started or failed to; how it goes is reported through onStatus/onEvent.
   */
  upsert(given: Pod): Promise<void> {
    const pod = this.builds.prepare(given);
    this.options.tailnet?.want(pod);
    let worker = this.workers.get(pod.uid);
    if (!worker) {
      worker = new PodWorker(this.ctx(), pod);
      this.workers.set(pod.uid, worker);
    }
    return worker.update(pod);
  }

  /** Stops the pod (SIGTERM, then SIGKILL after the grace), removes it, then reports it deleted. */
  async remove(uid: string, gracePeriodSeconds: number): Promise<void> {
    this.builds.cancel(uid);
    const worker = this.workers.get(uid) ?? new PodWorker(this.ctx(), { uid, namespace: '', name: '' });
    await worker.terminate(gracePeriodSeconds);
    if (this.workers.get(uid) === worker) this.workers.delete(uid);
    await this.options.tailnet?.drop(uid);
    const { namespace } = worker;
    if (namespace) {
      await this.networks.release(namespace, () => [...this.workers.values()].some((w) => w.namespace === namespace));
    }
  }

  /** A container's log, with the kubelet's options; ends when `signal` aborts. */
  async *logs(uid: string, container: string, options: LogOptions, signal: AbortSignal): AsyncIterable<StdioChunk> {
    const target = this.worker(uid).logTarget(container, options.previous);
    yield* containerLogs(this.options.docker, target.id, target.tty, options, signal);
  }

  /**
   * Runs a command in a running container. Throws at once when the pod or container is unknown or
   * not running; `signal` closes the session.
   */
  exec(uid: string, container: string, options: ExecOptions, signal?: AbortSignal): ExecSession {
    return startExec(this.options.docker, this.worker(uid).execTarget(container), options, signal);
  }

  /**
   * The address of a port of one of this node's pods, for a tunnel. Throws for a pod that is not
   * bound to this node (the gateway never asks; a node answers only for its own pods).
   */
  dialAddress(uid: string, port: number): { host: string; port: number } {
    return { host: this.worker(uid).dialTarget(), port };
  }

  /**
   * Gives the Services of a namespace their addresses on its network here: none while no pod of
   * it is here. The bridge's addresses are left as they are then: the network goes with the last
   * pod, unless another node's agent sharing this Docker engine still serves the namespace on it.
   */
  async serviceAddresses(namespace: string, names: string[]): Promise<ServiceAddresses | undefined> {
    if (![...this.workers.values()].some((w) => w.namespace === namespace)) return undefined;
    return this.networks.serviceAddresses(namespace, names);
  }

  /** The Services of a namespace changed: its pods here get their /etc/hosts written again. */
  servicesChanged(namespace: string): void {
    for (const worker of this.workers.values()) {
      if (worker.namespace === namespace) void worker.refreshHosts();
    }
  }

  /** A lattice-local PersistentVolume was deleted: its Docker volume goes too (refused if in use). */
  deleteVolume(name: string): Promise<void> {
    return deleteLocalVolume(this.options.docker, name);
  }

  /** Stops watching and probing; the containers keep running for the next agent to adopt. */
  async stop(): Promise<void> {
    this.deaths.stop();
    this.disk.stop();
    this.builds.stop();
    this.options.tailnet?.stop();
    await Promise.all([...this.workers.values()].map((w) => w.shutdown()));
  }

  private worker(uid: string): PodWorker {
    const worker = this.workers.get(uid);
    if (!worker) throw new Error(`pod ${uid} does not run on node ${this.options.nodeName}`);
    return worker;
  }

  private ctx(): WorkerContext {
    if (!this.context) throw new Error('DockerRuntime.start() must complete before pods are given to it');
    return this.context;
  }
}
