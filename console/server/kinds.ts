// The three Lattice kinds the console manages, by the plural that appears in its URLs: the kind's
// name, the zod schema its spec is checked with, the label that selects its pods, and the actions
// it supports. One table, so every route treats the kinds alike.
import { API_VERSION, CronWorkloadSpec, GROUP, PostgresInstanceSpec, VERSION, WorkloadSpec } from '@lattice/crds';
import type { z } from 'zod';

export interface LatticeKind {
  kind: string;
  spec: z.ZodType;
  /** The label its pods carry with the object's name as value (set by the operator). */
  podLabel: string;
  /** Whether spec.suspend stops it (Workload, CronWorkload). */
  suspends: boolean;
}

export const KINDS = {
  workloads: { kind: 'Workload', spec: WorkloadSpec, podLabel: 'lattice.dev/workload', suspends: true },
  postgresinstances: { kind: 'PostgresInstance', spec: PostgresInstanceSpec, podLabel: 'lattice.dev/postgres-instance', suspends: false },
  cronworkloads: { kind: 'CronWorkload', spec: CronWorkloadSpec, podLabel: 'lattice.dev/cronworkload', suspends: true },
} as const satisfies Record<string, LatticeKind>;

export type Plural = keyof typeof KINDS;
export const PLURALS = Object.keys(KINDS) as [Plural, ...Plural[]];

export const collectionPath = (plural: Plural, namespace: string) =>
  `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
export const itemPath = (plural: Plural, namespace: string, name: string) => `${collectionPath(plural, namespace)}/${encodeURIComponent(name)}`;

export const manifest = (plural: Plural, namespace: string, name: string, spec: unknown) => ({
  apiVersion: API_VERSION,
  kind: KINDS[plural].kind,
  metadata: { name, namespace },
  spec,
});
