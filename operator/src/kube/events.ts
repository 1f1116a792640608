// Kubernetes Events, so `kubectl describe` tells the story of what Lattice did and why.
import { randomBytes } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
}

export class EventRecorder {
  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly component: string,
    private readonly log: Logger,
  ) {}

  /** Records an event; failures are logged, never thrown: an event is not worth a failed reconcile. */
  async record(target: EventTarget, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace: target.namespace,
        body: {
          metadata: { name: `${target.name}.${randomBytes(8).toString('hex')}`, namespace: target.namespace },
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
    } catch (err) {
      this.log.warn({ err, reason, target: `${target.kind}/${target.namespace}/${target.name}` }, 'could not record event');
    }
  }
}

export function podTarget(pod: k8s.V1Pod): EventTarget {
  return { apiVersion: 'v1', kind: 'Pod', name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, uid: pod.metadata!.uid! };
}
