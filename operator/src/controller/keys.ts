// Work queue keys: "namespace/name" (or "name" for cluster-scoped objects), as client-go's
// MetaNamespaceKeyFunc, so a key is also readable in a log line.
import type * as k8s from '@kubernetes/client-node';

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function keyOf(obj: k8s.KubernetesObject): string {
  return objectKey(obj.metadata?.namespace, obj.metadata!.name!);
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
