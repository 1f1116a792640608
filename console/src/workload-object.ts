// A Workload as the apiserver returns it: the CRD types, with the spec as stored (defaults may be
// missing on objects written before a default existed) and status written by the operator.
import type { ObjectMeta, WorkloadSpec, WorkloadStatus } from '@lattice/crds';

export interface WorkloadObject {
  metadata: ObjectMeta & { name: string };
  spec?: Partial<WorkloadSpec>;
  status?: WorkloadStatus;
}

export interface WatchChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: WorkloadObject;
}

/** The list after one watch event, kept sorted by name so cards do not jump around. */
export function applyChange(list: readonly WorkloadObject[], change: WatchChange): WorkloadObject[] {
  const others = list.filter((w) => w.metadata.name !== change.object.metadata.name);
  const next = change.type === 'DELETED' ? others : [...others, change.object];
  return next.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}
