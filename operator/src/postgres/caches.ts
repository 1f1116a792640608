// The informers the PostgresInstance controller reads from: the instances, and the StatefulSets,
// Services and pods labelled with lattice.dev/postgres-instance. In one namespace, or in all.
// Secrets are read from the API when needed, never cached: caching every Secret of a cluster to
// read a few would hold them all in the operator's memory.
import type * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type PostgresInstanceStatus } from '@lattice/crds';
import type { Logger } from 'pino';
import type { Cache } from '../kube/informer.js';
import { labelledInformer, latticeInformer } from '../kube/scoped-informers.js';
import { INSTANCE_LABEL } from './objects.js';

export const POSTGRES_INSTANCES = { group: GROUP, version: VERSION, plural: 'postgresinstances' } as const;

/** An instance as stored: the spec is read through the zod schema before use. */
export interface StoredInstance extends k8s.KubernetesObject {
  spec?: unknown;
  status?: PostgresInstanceStatus;
}

export class PostgresCaches {
  readonly instances: Cache<StoredInstance>;
  readonly statefulSets: Cache<k8s.V1StatefulSet>;
  readonly services: Cache<k8s.V1Service>;
  readonly pods: Cache<k8s.V1Pod>;

  constructor(kc: k8s.KubeConfig, namespace: string | undefined, log: Logger) {
    const scope = { kc, namespace, log };
    this.instances = latticeInformer<StoredInstance>(scope, POSTGRES_INSTANCES.plural);
    this.statefulSets = labelledInformer(scope, 'statefulsets', INSTANCE_LABEL);
    this.services = labelledInformer(scope, 'services', INSTANCE_LABEL);
    this.pods = labelledInformer(scope, 'pods', INSTANCE_LABEL);
  }

  get all(): Cache<k8s.KubernetesObject>[] {
    return [this.instances, this.statefulSets, this.services, this.pods];
  }

  /** The instance's pod (a StatefulSet of one replica names it <name>-0). */
  podOf(namespace: string, name: string): k8s.V1Pod | undefined {
    return this.pods.get(`${name}-0`, namespace);
  }
}
