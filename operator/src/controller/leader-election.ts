// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection package: one
// process holds the Lease and renews it every retry period; the others poll it and take it over
// once it went unrenewed for its whole duration. Expiry is judged by when this process last saw
// the Lease change (its resourceVersion), never by the holder's clock.
//
// With the defaults (10 s lease, 1 s retry) a survivor takes over at most ~12 s after the leader
// died without releasing; a leader that stops cleanly releases the Lease and is replaced at once.
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isAlreadyExists, isConflict, isNotFound } from '../kube/errors.js';

export interface LeaderElectionConfig {
  namespace: string;
  /** Name of the Lease. */
  name: string;
  /** Unique per process, e.g. the pod name plus a random suffix. */
  identity: string;
  /** How long a Lease held by another is respected after it last changed. */
  leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it gives up leadership. */
  renewDeadlineMs: number;
  /** Time between attempts to acquire or renew. */
  retryPeriodMs: number;
}

/** Outcome of one try; 'failed' (an error, a timeout, a write race) is retried until a deadline. */
type Attempt = 'held' | 'held-by-other' | 'failed';

export class LeaderElector {
  private observedVersion?: string;
  private observedAt = 0;
  private leading = false;

  constructor(
    private readonly coordination: k8s.CoordinationV1Api,
    private readonly config: LeaderElectionConfig,
    private readonly log: Logger,
  ) {}

  /** Waits until this process holds the Lease; false if `signal` aborted first. */
  async acquire(signal: AbortSignal): Promise<boolean> {
    this.log.info({ lease: `${this.config.namespace}/${this.config.name}`, identity: this.config.identity }, 'waiting to become leader');
    while (!signal.aborted) {
      if ((await this.attempt()) === 'held') {
        this.leading = true;
        this.log.info({ identity: this.config.identity }, 'became leader');
        return true;
      }
      await this.pause(signal);
    }
    return false;
  }

  /**
   * Renews the Lease until `signal` aborts (resolves 'stopped') or leadership is lost (resolves
   * 'lost'): another process holds the Lease, or no renewal succeeded within the renew deadline.
   */
  async hold(signal: AbortSignal): Promise<'stopped' | 'lost'> {
    let renewedAt = Date.now();
    while (!signal.aborted) {
      await this.pause(signal);
      if (signal.aborted) break;
      const attempt = await this.attempt();
      if (attempt === 'held') {
        renewedAt = Date.now();
      } else if (attempt === 'held-by-other' || Date.now() - renewedAt > this.config.renewDeadlineMs) {
        this.leading = false;
        this.log.error({ identity: this.config.identity, attempt }, 'leader election lost');
        return 'lost';
      }
    }
    return 'stopped';
  }

  /** Gives the Lease up so another process takes over at once; best effort. */
  async release(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.coordination.readNamespacedLease({ name: this.config.name, namespace: this.config.namespace });
      if (lease.spec?.holderIdentity !== this.config.identity) return;
      const now = new k8s.V1MicroTime();
      lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, acquireTime: now, renewTime: now };
      await this.coordination.replaceNamespacedLease({ name: this.config.name, namespace: this.config.namespace, body: lease });
      this.log.info('released the leader lease');
    } catch (err) {
      this.log.warn({ err }, 'could not release the leader lease; it expires by itself');
    }
  }

  /** One try to acquire or renew; failures to reach the apiserver count as "not held". */
  private async attempt(): Promise<Attempt> {
    try {
      return await withTimeout(this.tryAcquireOrRenew(), this.config.retryPeriodMs * 2);
    } catch (err) {
      this.log.warn({ err }, 'could not acquire or renew the leader lease');
      return 'failed';
    }
  }

  private async tryAcquireOrRenew(): Promise<Attempt> {
    const { name, namespace, identity } = this.config;
    const now = new k8s.V1MicroTime();
    const leaseDurationSeconds = Math.ceil(this.config.leaseDurationMs / 1000);
    let lease: k8s.V1Lease;
    try {
      lease = await this.coordination.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      try {
        const created = await this.coordination.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        });
        this.observe(created);
        return 'held';
      } catch (createErr) {
        // Another process created it first; the next attempt reads who.
        if (isAlreadyExists(createErr)) return 'failed';
        throw createErr;
      }
    }

    this.observe(lease);
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity;
    const heldByOther = holder !== undefined && holder !== '' && holder !== identity;
    const durationMs = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (heldByOther && this.observedAt + durationMs > Date.now()) return 'held-by-other';

    const acquiring = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds,
      renewTime: now,
      ...(acquiring ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
    };
    try {
      // A replace carries the resourceVersion read above: if anyone wrote in between, it conflicts.
      this.observe(await this.coordination.replaceNamespacedLease({ name, namespace, body: lease }));
      return 'held';
    } catch (err) {
      if (isConflict(err)) return 'failed';
      throw err;
    }
  }

  private observe(lease: k8s.V1Lease): void {
    const version = lease.metadata?.resourceVersion;
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAt = Date.now();
    }
  }

  /** Waits one retry period, with client-go's jitter so replicas do not poll in lockstep. */
  private async pause(signal: AbortSignal): Promise<void> {
    await sleep(this.config.retryPeriodMs * (1 + Math.random() * 0.2), undefined, { signal }).catch(() => undefined);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from the apiserver within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
