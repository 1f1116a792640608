// The operator process's life, as controller-runtime's Manager: serve health and metrics, fill
// the caches, and (on the leader only) run the controllers and whatever else must run once per
// cluster, such as the gateway. Standby replicas keep their caches warm so a takeover acts at once.
import { once } from 'node:events';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { waitForCacheSync, type Cache } from '../kube/informer.js';
import { installProblems } from '../kube/install-problems.js';
import type { Controller } from './controller.js';
import { startHealthServer, type HealthServer } from './health-server.js';
import type { LeaderElector } from './leader-election.js';

/** Something started on the leader once the caches synced, and stopped at shutdown. */
export interface Runnable {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface ManagerOptions {
  log: Logger;
  registry: Registry;
  /** Address and port of /healthz, /readyz and /metrics (port 0 picks a free one). */
  host: string;
  port: number;
  /** Act only while holding the elector's Lease; without one, this process always acts. */
  elector?: LeaderElector;
}

/** Thrown by run() when another process took the Lease: the caller exits, to restart clean. */
export class LeaderElectionLost extends Error {
  constructor() {
    super('leader election lost: another replica holds the lease now');
  }
}

export class Manager {
  private readonly caches: Cache<k8s.KubernetesObject>[] = [];
  private readonly runnables: Runnable[] = [];
  private synced = false;
  private leading = false;
  private started = false;
  private health?: HealthServer;

  constructor(private readonly options: ManagerOptions) {}

  /** Caches to fill before anything starts. */
  addCaches(...caches: Cache<k8s.KubernetesObject>[]): this {
    this.caches.push(...caches);
    return this;
  }

  addController(controller: Controller): this {
    return this.add({ name: `controller ${controller.name}`, start: async () => controller.start(), stop: () => controller.stop() });
  }

  /** Runnables start in the order added and stop in reverse. */
  add(runnable: Runnable): this {
    this.runnables.push(runnable);
    return this;
  }

  /** Port of the health server, once run() started it. */
  get port(): number | undefined {
    return this.health?.port;
  }

  /** Why this process is not ready, or undefined when it is. */
  notReady(): string | undefined {
    if (!this.synced) {
      const problems = installProblems.list().map((p) => p.message);
      return problems.length ? `caches are not synced: ${problems.join('; ')}` : 'caches are not synced yet';
    }
    if (this.leading && !this.started) return 'starting controllers';
    return undefined;
  }

  /**
   * Runs until `signal` aborts, then stops everything gracefully and resolves. Rejects with
   * LeaderElectionLost as soon as the Lease is lost, without stopping anything: another replica
   * already acts, so the caller must exit at once.
   */
  async run(signal: AbortSignal): Promise<void> {
    this.health = await startHealthServer({
      host: this.options.host,
      port: this.options.port,
      registry: this.options.registry,
      notReady: () => this.notReady(),
      log: this.options.log,
    });
    const running: Runnable[] = [];
    try {
      await this.lead(signal, running);
    } catch (err) {
      if (err instanceof LeaderElectionLost) throw err;
      await this.shutdown(running);
      // An abort interrupts waits with an AbortError: that is the shutdown asked for, not a failure.
      if (!signal.aborted) throw err;
      return;
    }
    await this.shutdown(running);
  }

  private async lead(signal: AbortSignal, running: Runnable[]): Promise<void> {
    const { log, elector } = this.options;
    await Promise.all(this.caches.map((cache) => cache.start()));
    await waitForCacheSync(this.caches, signal);
    this.synced = true;
    log.info({ caches: this.caches.length }, 'caches synced');

    if (elector && !(await elector.acquire(signal))) return;
    this.leading = true;
    for (const runnable of this.runnables) {
      if (signal.aborted) return;
      log.info(`starting ${runnable.name}`);
      await runnable.start();
      running.push(runnable);
    }
    this.started = true;

    if (elector) {
      if ((await elector.hold(signal)) === 'lost') throw new LeaderElectionLost();
    } else if (!signal.aborted) {
      await once(signal, 'abort');
    }
  }

  private async shutdown(running: readonly Runnable[]): Promise<void> {
    const { log, elector } = this.options;
    log.info('shutting down');
    for (const runnable of [...running].reverse()) {
      await runnable.stop().catch((err: unknown) => log.error({ err }, `could not stop ${runnable.name}`));
    }
    // Only once nothing acts any more may another replica take over.
    await elector?.release();
    await Promise.all(this.caches.map((cache) => cache.stop()));
    await this.health?.close();
    log.info('stopped');
  }
}
