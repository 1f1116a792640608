// Informers scoped the way every Lattice controller reads the cluster: in one namespace or in
// all, and for built-in kinds only the objects carrying the controller's own label (a cluster's
// other pods, Jobs or Services are none of its business).
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '@lattice/crds';
import type { Logger } from 'pino';
import { informer, type Cache } from './informer.js';

/** Where a controller looks: one namespace (undefined = all). */
export interface Scope {
  kc: k8s.KubeConfig;
  namespace: string | undefined;
  log: Logger;
}

const collectionPath = (prefix: string, plural: string, namespace: string | undefined) =>
  namespace ? `${prefix}/namespaces/${namespace}/${plural}` : `${prefix}/${plural}`;

/** An informer over one of the lattice.dev custom resources (all of them, in scope). */
export function latticeInformer<T extends k8s.KubernetesObject>(scope: Scope, plural: string): Cache<T> {
  const custom = scope.kc.makeApiClient(k8s.CustomObjectsApi);
  const resource = { group: GROUP, version: VERSION, plural };
  return informer<T>(
    scope.kc,
    collectionPath(`/apis/${GROUP}/${VERSION}`, plural, scope.namespace),
    () => (scope.namespace ? custom.listNamespacedCustomObject({ ...resource, namespace: scope.namespace }) : custom.listClusterCustomObject(resource)),
    scope.log,
  );
}

interface BuiltinKinds {
  deployments: k8s.V1Deployment;
  statefulsets: k8s.V1StatefulSet;
  services: k8s.V1Service;
  pods: k8s.V1Pod;
  jobs: k8s.V1Job;
  secrets: k8s.V1Secret;
}

/**
 * An informer over the objects of a built-in kind that carry `labelSelector`, in scope; without a
 * selector, over all of them (the users' own Secrets carry no label of Lattice's).
 */
export function labelledInformer<K extends keyof BuiltinKinds>(scope: Scope, kind: K, labelSelector?: string): Cache<BuiltinKinds[K]> {
  const { kc, namespace } = scope;
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const all = { labelSelector };
  const inNamespace = { namespace: namespace!, labelSelector };
  const lists: { [P in keyof BuiltinKinds]: [string, () => Promise<k8s.KubernetesListObject<BuiltinKinds[P]>>] } = {
    deployments: ['/apis/apps/v1', () => (namespace ? apps.listNamespacedDeployment(inNamespace) : apps.listDeploymentForAllNamespaces(all))],
    statefulsets: ['/apis/apps/v1', () => (namespace ? apps.listNamespacedStatefulSet(inNamespace) : apps.listStatefulSetForAllNamespaces(all))],
    services: ['/api/v1', () => (namespace ? core.listNamespacedService(inNamespace) : core.listServiceForAllNamespaces(all))],
    pods: ['/api/v1', () => (namespace ? core.listNamespacedPod(inNamespace) : core.listPodForAllNamespaces(all))],
    jobs: ['/apis/batch/v1', () => (namespace ? batch.listNamespacedJob(inNamespace) : batch.listJobForAllNamespaces(all))],
    secrets: ['/api/v1', () => (namespace ? core.listNamespacedSecret(inNamespace) : core.listSecretForAllNamespaces(all))],
  };
  const [prefix, list] = lists[kind];
  return informer(kc, collectionPath(prefix, kind, namespace), list as () => Promise<k8s.KubernetesListObject<BuiltinKinds[K]>>, scope.log, { labelSelector });
}
