// Which Workloads' public URLs have answered, and for which ready replicas. A Workload is Ready
// only once its URL answers through the ingress (reconciler.ts); checking that on every reconcile
// would send one HTTPS request through a provider's tunnel per Workload per resync. The check is
// made again only when what it proved can have changed: another URL, or another set of ready pods.
import type * as k8s from '@kubernetes/client-node';

export class AnsweredUrls {
  private readonly answered = new Map<string, string>();

  /** Whether the URL already answered with exactly these ready pods behind it. */
  has(key: string, url: string, readyPods: k8s.V1Pod[]): boolean {
    return this.answered.get(key) === signature(url, readyPods);
  }

  /** Records a check: an answer is remembered, a failure forgets any earlier answer. */
  record(key: string, url: string, readyPods: k8s.V1Pod[], answered: boolean): void {
    if (answered) this.answered.set(key, signature(url, readyPods));
    else this.answered.delete(key);
  }

  forget(key: string): void {
    this.answered.delete(key);
  }
}

function signature(url: string, readyPods: k8s.V1Pod[]): string {
  return [url, ...readyPods.map((p) => p.metadata?.uid ?? '').sort()].join(' ');
}
