// One controller: informer events become keys in a rate-limited work queue, and a bounded number
// of workers reconcile them. A reconcile reads the current state from the caches and makes the
// world match it (level-triggered), so it does not matter which events, or how many, led to it.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Cache } from '../kube/informer.js';
import { controllerOf } from '../kube/owners.js';
import { keyOf, objectKey } from './keys.js';
import type { ControllerMetrics } from './metrics.js';
import { ExponentialBackoff } from './rate-limiter.js';
import { WorkQueue } from './workqueue.js';

/** What a reconcile asks for besides success: to look again later (e.g. a time-based change). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** Makes the object with this key as it should be; throws to be retried with backoff. */
export type Reconcile = (key: string, log: Logger) => Promise<ReconcileResult | void>;

/** Maps an event's object to the keys of the primary objects to reconcile. */
export type KeyMapper<T extends k8s.KubernetesObject> = (obj: T) => string[];

/** Reconcile the object itself. */
export const ownKey: KeyMapper<k8s.KubernetesObject> = (obj) => [keyOf(obj)];

/** Reconcile the managing owner of the object, if it is of this kind (controller-runtime's Owns()). */
export function ownerKey(apiVersion: string, kind: string): KeyMapper<k8s.KubernetesObject> {
  return (obj) => {
    const owner = controllerOf(obj);
    return owner?.apiVersion === apiVersion && owner.kind === kind ? [objectKey(obj.metadata?.namespace, owner.name)] : [];
  };
}

export interface ControllerOptions {
  log: Logger;
  metrics: ControllerMetrics;
  /** Keys reconciled at the same time (never the same key twice). */
  maxConcurrency: number;
}

export class Controller {
  readonly queue = new WorkQueue(new ExponentialBackoff());
  private readonly log: Logger;
  private workers: Promise<void>[] = [];

  constructor(
    readonly name: string,
    private readonly reconcile: Reconcile,
    private readonly options: ControllerOptions,
  ) {
    this.log = options.log.child({ controller: name });
    options.metrics.trackQueue(name, this.queue);
  }

  /**
   * Enqueues the keys `map` gives for every object the cache adds, updates or deletes. Events
   * arriving before start() wait in the queue (deduplicated), so the first pass sees them all.
   */
  watch<T extends k8s.KubernetesObject>(cache: Cache<T>, map: KeyMapper<T>): this {
    cache.on('change', (obj) => {
      for (const key of map(obj)) this.queue.add(key);
    });
    return this;
  }

  /** Starts the workers; call once the caches have synced. */
  start(): void {
    this.log.info({ workers: this.options.maxConcurrency }, 'starting workers');
    this.workers = Array.from({ length: this.options.maxConcurrency }, () => this.work());
  }

  /** Stops handing out keys and waits for the reconciles in flight. */
  async stop(): Promise<void> {
    this.queue.shutdown();
    await Promise.all(this.workers);
    this.log.info('workers stopped');
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      await this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const { metrics } = this.options;
    const log = this.log.child({ key });
    const stopTimer = metrics.duration.startTimer({ controller: this.name });
    try {
      const result = await this.reconcile(key, log);
      this.queue.forget(key);
      if (result?.requeueAfterMs !== undefined) {
        this.queue.addAfter(key, result.requeueAfterMs);
        metrics.reconciles.inc({ controller: this.name, result: 'requeue_after' });
      } else {
        metrics.reconciles.inc({ controller: this.name, result: 'success' });
      }
    } catch (err) {
      const retries = this.queue.retries(key);
      // The first failures are often a stale cache or a race with another writer; say so quietly.
      log[retries < 3 ? 'info' : 'error']({ err, retries }, 'reconcile failed; retrying with backoff');
      this.queue.addRateLimited(key);
      metrics.reconciles.inc({ controller: this.name, result: 'error' });
      metrics.errors.inc({ controller: this.name });
    } finally {
      stopTimer();
      this.queue.done(key);
    }
  }
}
