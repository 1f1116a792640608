// Server-side apply with the operator's one field manager: each write states every field the
// operator owns, the apiserver merges it with what others (users, GitOps tools, Kubernetes'
// controllers) own, and a field the operator stops stating is removed. `force` takes over a field
// another manager set, because the operator is the authority for what it applies.
import * as k8s from '@kubernetes/client-node';
import { isNotFound } from './errors.js';

export const FIELD_MANAGER = 'lattice-operator';

const applyPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply);

/** The group, version and plural of a custom resource, for its status subresource. */
export interface CustomResource {
  group: string;
  version: string;
  plural: string;
}

export class Applier {
  private readonly objects: k8s.KubernetesObjectApi;
  private readonly custom: k8s.CustomObjectsApi;

  constructor(kc: k8s.KubeConfig) {
    this.objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  /** Applies a whole object (apiVersion, kind, metadata.name and namespace set); returns it as stored. */
  apply<T extends k8s.KubernetesObject>(obj: T): Promise<T> {
    return this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, k8s.PatchStrategy.ServerSideApply);
  }

  /**
   * Applies `status` through the status subresource of a namespaced custom object, so a status
   * write never changes its spec or metadata (and needs only the status RBAC verb).
   */
  async applyStatus(
    resource: CustomResource,
    target: { apiVersion: string; kind: string; namespace: string; name: string },
    status: object,
  ): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      {
        ...resource,
        namespace: target.namespace,
        name: target.name,
        body: { apiVersion: target.apiVersion, kind: target.kind, metadata: { name: target.name, namespace: target.namespace }, status },
        fieldManager: FIELD_MANAGER,
        force: true,
      },
      applyPatch,
    );
  }

  /** Deletes an object, its dependents in the background; an object already gone is not an error. */
  async delete(obj: k8s.KubernetesObject): Promise<void> {
    try {
      await this.objects.delete(obj, undefined, undefined, undefined, undefined, 'Background');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** Reads an object from the API (not a cache); undefined if it does not exist. */
  async read<T extends k8s.KubernetesObject>(ref: { apiVersion: string; kind: string; metadata: { name: string; namespace: string } }): Promise<T | undefined> {
    try {
      return await this.objects.read<T>(ref);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
