// Workloads for the unit tests, read through the same schema the reconciler reads them with.
import { WorkloadSpec, type Workload } from '@lattice/crds';

export function workload(spec: Record<string, unknown>, metadata: Workload['metadata'] = {}): Workload {
  return {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name: 'web', namespace: 'shop', uid: 'uid-1', generation: 1, ...metadata },
    spec: WorkloadSpec.parse({ image: '127.0.0.1:5001/lattice/busybox:1', ...spec }),
  };
}
