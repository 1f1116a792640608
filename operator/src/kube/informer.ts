// A client-node ListWatch (informer + cache), with the field selector makeInformer lacks and a
// restart after watch errors: client-node stops an informer whose watch fails, and a controller
// must never go blind, so it is started again after a pause (a 410 Gone relists from scratch).
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { installProblem, installProblems } from './install-problems.js';

export type Cache<T extends k8s.KubernetesObject> = k8s.Informer<T> &
  k8s.ObjectCache<T> & {
    /** The resourceVersion of the latest list or watch event; empty until the first list succeeded. */
    latestResourceVersion(): string;
  };

export function informer<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  list: k8s.ListPromise<T>,
  log: Logger,
  selectors: { labelSelector?: string; fieldSelector?: string } = {},
): Cache<T> {
  const lw = new k8s.ListWatch<T>(path, new k8s.Watch(kc), list, false, selectors.labelSelector, selectors.fieldSelector);
  // stop() aborts the watch, which ListWatch reports as an error: that one must not restart it.
  let stopped = false;
  const [start, stop] = [lw.start.bind(lw), lw.stop.bind(lw)];
  lw.start = () => {
    stopped = false;
    return start();
  };
  lw.stop = () => {
    stopped = true;
    return stop();
  };
  lw.on('error', (err: unknown) => {
    if (stopped) return;
    const problem = installProblem(path, err);
    if (!problem) log.warn({ err, path }, 'watch failed; restarting the informer');
    else if (installProblems.report(problem)) log.error({ reason: problem.reason, path }, problem.message);
    setTimeout(() => {
      if (!stopped) lw.start().catch((e: unknown) => log.error({ err: e, path }, 'informer restart failed'));
    }, 2_000);
  });
  return lw;
}

/**
 * Resolves once every cache has listed at least once (client-go's WaitForCacheSync, which polls
 * the same way): ListWatch.start() also returns when its first list fails, and the restart above
 * retries it, so "started" does not mean "holds a snapshot". Rejects if `signal` aborts first.
 */
export async function waitForCacheSync(caches: readonly Cache<k8s.KubernetesObject>[], signal: AbortSignal): Promise<void> {
  while (!caches.every((cache) => cache.latestResourceVersion() !== '')) {
    await sleep(100, undefined, { signal });
  }
}
