// The informers the PostgresInstance controller reads from: the instances, and the StatefulSets,
// Services and pods labelled with lattice.dev/postgres-instance. In one namespace, or in all.
// Secrets are read from the API when needed, never cached: caching every Secret of a cluster to
// read a few would hold them all in the operator's memory.
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type PostgresInstanceStatus } from '@lattice/crds';
import type { Logger } from 'pino';
import { informer, type Cache } from '../kube/informer.js';
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
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const labelSelector = INSTANCE_LABEL;
    const selected = { labelSelector };
    const path = (prefix: string, plural: string) => (namespace ? `${prefix}/namespaces/${namespace}/${plural}` : `${prefix}/${plural}`);

    this.instances = informer<StoredInstance>(
      kc,
      path(`/apis/${GROUP}/${VERSION}`, POSTGRES_INSTANCES.plural),
      () =>
        namespace ? custom.listNamespacedCustomObject({ ...POSTGRES_INSTANCES, namespace }) : custom.listClusterCustomObject(POSTGRES_INSTANCES),
      log,
    );
    this.statefulSets = informer(
      kc,
      path('/apis/apps/v1', 'statefulsets'),
      () => (namespace ? apps.listNamespacedStatefulSet({ namespace, labelSelector }) : apps.listStatefulSetForAllNamespaces(selected)),
      log,
      selected,
    );
    this.services = informer(
      kc,
      path('/api/v1', 'services'),
      () => (namespace ? core.listNamespacedService({ namespace, labelSelector }) : core.listServiceForAllNamespaces(selected)),
      log,
      selected,
    );
    this.pods = informer(
      kc,
      path('/api/v1', 'pods'),
      () => (namespace ? core.listNamespacedPod({ namespace, labelSelector }) : core.listPodForAllNamespaces(selected)),
      log,
      selected,
    );
  }

  get all(): Cache<k8s.KubernetesObject>[] {
    return [this.instances, this.statefulSets, this.services, this.pods];
  }

  /** The instance's pod (a StatefulSet of one replica names it <name>-0). */
  podOf(namespace: string, name: string): k8s.V1Pod | undefined {
    return this.pods.get(`${name}-0`, namespace);
  }
}
