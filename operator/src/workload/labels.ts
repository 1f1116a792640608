// The labels on everything a Workload becomes (Deployment or StatefulSet, its pods, the Service):
// the recommended app.kubernetes.io set, and lattice.dev/workload, which selects the pods.
import type { Workload } from '@lattice/crds';

export const WORKLOAD_LABEL = 'lattice.dev/workload';
export const MANAGED_BY = 'lattice-operator';

/** The pods of a Workload. Immutable in a Deployment, so it holds nothing a user can change. */
export function selectorLabels(name: string): Record<string, string> {
  return { [WORKLOAD_LABEL]: name };
}

/** A user's own app.kubernetes.io/name and part-of labels on the Workload are carried over. */
export function workloadLabels(wl: Workload): Record<string, string> {
  const name = wl.metadata.name!;
  const own = wl.metadata.labels ?? {};
  return {
    'app.kubernetes.io/name': own['app.kubernetes.io/name'] ?? name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/part-of': own['app.kubernetes.io/part-of'] ?? 'lattice',
    ...selectorLabels(name),
  };
}
