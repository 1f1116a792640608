// Lattice objects as the apiserver returns them: the CRD types, with the spec as stored (defaults
// may be missing on objects written before a default existed) and status written by the operator.
import type {
  CronWorkloadSpec,
  CronWorkloadStatus,
  ObjectMeta,
  PostgresInstanceSpec,
  PostgresInstanceStatus,
  WorkloadSpec,
  WorkloadStatus,
} from '@lattice/crds';

interface Stored<Spec, Status> {
  metadata: ObjectMeta & { name: string };
  spec?: Partial<Spec>;
  status?: Status;
}

export type WorkloadObject = Stored<WorkloadSpec, WorkloadStatus>;
export type PostgresObject = Stored<PostgresInstanceSpec, PostgresInstanceStatus>;
export type CronObject = Stored<CronWorkloadSpec, CronWorkloadStatus>;

/** The plural in the console's URLs, and the object it names. */
export interface ObjectsByPlural {
  workloads: WorkloadObject;
  postgresinstances: PostgresObject;
  cronworkloads: CronObject;
}
export type Plural = keyof ObjectsByPlural;
export const PLURALS: readonly Plural[] = ['workloads', 'postgresinstances', 'cronworkloads'];

/** A Lattice object tagged with its plural, so code can tell the kinds apart. */
export type Tagged = { [P in Plural]: { plural: P; object: ObjectsByPlural[P] } }[Plural];

export interface WatchChange<T extends { metadata: { name: string } }> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
}

/** The list after one watch event, kept sorted by name so cards do not jump around. */
export function applyChange<T extends { metadata: { name: string } }>(list: readonly T[], change: WatchChange<T>): T[] {
  const others = list.filter((o) => o.metadata.name !== change.object.metadata.name);
  const next = change.type === 'DELETED' ? others : [...others, change.object];
  return next.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}
