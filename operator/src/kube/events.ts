// Kubernetes Events, so `kubectl describe` tells the story of what Lattice did and why. Recorded as
// client-go's EventCorrelator records them: a spam filter per object (a token bucket: a burst of 25,
// then one every 5 minutes), and an Event seen again within 10 minutes counted on the one already
// stored (`x5 over 2m`) instead of stored again. A flapping condition, or a provider that reports
// events as fast as it can, cannot flood the apiserver or `kubectl describe`.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { TokenBucket } from 'limiter';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { isNotFound } from './errors.js';
import { fullTokenBucket } from '../token-bucket.js';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
}

type EventType = 'Normal' | 'Warning';

// client-go's defaults (tools/record/events_cache.go).
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 5 * 60_000;
const DEDUPE_WINDOW_MS = 10 * 60_000;
const CACHE_ENTRIES = 4096;

/** What to do with an event: store a new one, count it on one stored, or drop it. */
export type Correlation = { action: 'create' } | { action: 'count'; name: string; count: number; firstTimestamp: Date } | { action: 'drop' };

/** Decides each event's fate; pure but for the clock it is given. */
export class EventCorrelator {
  private readonly spam = new LRUCache<string, TokenBucket>({ max: CACHE_ENTRIES });
  private readonly seen = new LRUCache<string, { name: string; count: number; firstTimestamp: Date; lastTimestamp: Date }>({ max: CACHE_ENTRIES });

  correlate(target: EventTarget, type: EventType, reason: string, message: string, now: Date): Correlation {
    let bucket = this.spam.get(target.uid);
    if (!bucket) {
      bucket = fullTokenBucket(SPAM_BURST, 1, SPAM_REFILL_MS);
      this.spam.set(target.uid, bucket);
    }
    if (!bucket.tryRemoveTokens(1)) return { action: 'drop' };
    const previous = this.seen.get(eventKey(target, type, reason, message));
    if (!previous || now.getTime() - previous.lastTimestamp.getTime() > DEDUPE_WINDOW_MS) return { action: 'create' };
    return { action: 'count', name: previous.name, count: previous.count + 1, firstTimestamp: previous.firstTimestamp };
  }

  /** The event as stored now, to count repeats of it on. */
  stored(target: EventTarget, type: EventType, reason: string, message: string, event: { name: string; count: number; firstTimestamp: Date; lastTimestamp: Date }): void {
    this.seen.set(eventKey(target, type, reason, message), event);
  }
}

const eventKey = (target: EventTarget, type: EventType, reason: string, message: string) => JSON.stringify([target.uid, type, reason, message]);

export class EventRecorder {
  private readonly correlator = new EventCorrelator();

  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly component: string,
    private readonly log: Logger,
  ) {}

  /** Records an event; failures are logged, never thrown: an event is not worth a failed reconcile. */
  async record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    const now = new Date();
    const correlation = this.correlator.correlate(target, type, reason, message, now);
    if (correlation.action === 'drop') {
      this.log.debug({ reason, target: `${target.kind}/${target.namespace}/${target.name}` }, 'event dropped: too many for this object');
      return;
    }
    try {
      if (correlation.action === 'count') {
        const { name, count, firstTimestamp } = correlation;
        try {
          await this.core.patchNamespacedEvent(
            { name, namespace: target.namespace, body: { count, lastTimestamp: now } },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          );
          this.correlator.stored(target, type, reason, message, { name, count, firstTimestamp, lastTimestamp: now });
          return;
        } catch (err) {
          if (!isNotFound(err)) throw err; // expired (the apiserver keeps events an hour): store it anew
        }
      }
      const name = `${target.name}.${randomBytes(8).toString('hex')}`;
      await this.core.createNamespacedEvent({
        namespace: target.namespace,
        body: {
          metadata: { name, namespace: target.namespace },
          involvedObject: { ...target },
          type,
          reason,
          message,
          source: { component: this.component },
          reportingComponent: this.component,
          reportingInstance: this.component,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      this.correlator.stored(target, type, reason, message, { name, count: 1, firstTimestamp: now, lastTimestamp: now });
    } catch (err) {
      this.log.warn({ err, reason, target: `${target.kind}/${target.namespace}/${target.name}` }, 'could not record event');
    }
  }
}

export function podTarget(pod: k8s.V1Pod): EventTarget {
  return { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, uid: pod.metadata!.uid! };
}
