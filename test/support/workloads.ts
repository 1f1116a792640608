// Reading Workloads as the suites check them: the stored object, one of its conditions, and a
// wait for a status that describes the latest generation.
import * as k8s from '@kubernetes/client-node';
import { waitFor } from './cluster.js';

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

export interface StoredWorkload {
  metadata: { name: string; generation: number; uid: string; resourceVersion: string };
  status?: {
    observedGeneration?: number;
    phase?: string;
    replicas?: number;
    readyReplicas?: number;
    nodes?: string[];
    endpoints?: { port: string; url: string }[];
    conditions?: Condition[];
  };
}

export const condition = (wl: StoredWorkload, type: string) => wl.status?.conditions?.find((c) => c.type === type);

/** getWorkload and waitForStatus for one namespace, with the suite's own wait bounds. */
export function workloadReader(kc: k8s.KubeConfig, namespace: string, bounds: { timeoutMs: number; intervalMs?: number }) {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);

  async function getWorkload(name: string, ns = namespace): Promise<StoredWorkload> {
    return (await custom.getNamespacedCustomObject({ group: 'lattice.dev', version: 'v1alpha1', plural: 'workloads', namespace: ns, name })) as StoredWorkload;
  }

  /** Waits until the Workload's status describes its latest generation and `check` holds. */
  function waitForStatus(name: string, what: string, check: (wl: StoredWorkload) => boolean, timeoutMs = bounds.timeoutMs): Promise<StoredWorkload> {
    return waitFor(
      `Workload ${name}: ${what}`,
      async () => {
        const wl = await getWorkload(name);
        if (wl.status?.observedGeneration === wl.metadata.generation && check(wl)) return wl;
        // Thrown, so that a timeout shows the status last seen.
        throw new Error(`generation ${wl.metadata.generation}, status ${JSON.stringify(wl.status)}`);
      },
      { timeoutMs, ...(bounds.intervalMs ? { intervalMs: bounds.intervalMs } : {}) },
    );
  }

  return { getWorkload, waitForStatus };
}
