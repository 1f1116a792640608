// Owner references: children carry one to the object they were made for, so Kubernetes' garbage
// collector deletes them with it, and a controller can tell its own children from anyone else's.
import type * as k8s from '@kubernetes/client-node';

interface Owner {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; uid?: string };
}

/** The reference a child carries to its managing owner (controller-runtime's SetControllerReference). */
export function controllerReference(owner: Owner): k8s.V1OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name!,
    uid: owner.metadata.uid!,
    controller: true,
    // The owner is deleted only after this child is gone when deleted in foreground.
    blockOwnerDeletion: true,
  };
}

/** The managing owner of an object, if any. */
export function controllerOf(obj: k8s.KubernetesObject): k8s.V1OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((ref) => ref.controller === true);
}

/** True if `obj` is managed by the owner with this uid. */
export function isControlledBy(obj: k8s.KubernetesObject, ownerUid: string | undefined): boolean {
  return ownerUid !== undefined && controllerOf(obj)?.uid === ownerUid;
}
