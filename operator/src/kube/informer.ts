// A client-node ListWatch (informer + cache), with the field selector makeInformer lacks and a
// restart after watch errors: client-node stops an informer whose watch fails, and a controller
// must never go blind, so it is started again after a pause (a 410 Gone relists from scratch).
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';

export type Cache<T extends k8s.KubernetesObject> = k8s.Informer<T> & k8s.ObjectCache<T>;

export function informer<T extends k8s.KubernetesObject>(
  kc: k8s.KubeConfig,
  path: string,
  list: k8s.ListPromise<T>,
  log: Logger,
  selectors: { labelSelector?: string; fieldSelector?: string } = {},
): Cache<T> {
  const lw = new k8s.ListWatch<T>(path, new k8s.Watch(kc), list, false, selectors.labelSelector, selectors.fieldSelector);
  lw.on('error', (err: unknown) => {
    log.warn({ err, path }, 'watch failed; restarting the informer');
    setTimeout(() => void lw.start().catch((e: unknown) => log.error({ err: e, path }, 'informer restart failed')), 2_000);
  });
  return lw;
}
