// The credentials Secret a build names (spec.source.credentialsSecretRef), checked before its Job
// is made: a Job whose Secret is missing would wait, its pod unable to start, until the build's
// time limit. Instead the build fails at once with the Secret's name and the key it lacks, and
// starts by itself once the Secret is there (the controller watches Secrets: secretWorkloads).
import type * as k8s from '@kubernetes/client-node';
import type { Workload } from '@lattice/crds';
import { objectKey } from '../controller/keys.js';
import type { StoredWorkload } from '../workload/caches.js';

/** An ssh URL: ssh://... or the scp-like user@host:path. */
export const isSshUrl = (url: string) => /^ssh:\/\//.test(url) || /^[\w.-]+@[\w.-]+:/.test(url);

/** The key the agent reads for this URL (agent/src/runtime/build/builds.ts credentialsOf). */
function expectedKey(url: string): { key: string; what: string } {
  return isSshUrl(url)
    ? { key: 'ssh-privatekey', what: 'the private key for an ssh URL, as in a kubernetes.io/ssh-auth Secret' }
    : { key: 'password', what: 'the access token for an https URL, beside username, as in a kubernetes.io/basic-auth Secret' };
}

/** Why the build cannot start with `secret` (the one the Workload names, if it exists); undefined if it can. */
export function credentialsProblem(wl: Workload, secret: k8s.V1Secret | undefined): string | undefined {
  const name = wl.spec.source?.credentialsSecretRef?.name;
  if (!name) return undefined;
  if (!secret) {
    return `Secret ${name} (spec.source.credentialsSecretRef) does not exist in namespace ${wl.metadata.namespace}; the build starts once it does`;
  }
  const { key, what } = expectedKey(wl.spec.source!.url);
  if (!secret.data?.[key]) return `Secret ${name} (spec.source.credentialsSecretRef) has no key "${key}" (${what}); the build starts once it has`;
  return undefined;
}

/** The Workloads of the Secret's namespace that name it for their builds. */
export function secretWorkloads(secret: k8s.V1Secret, workloads: readonly StoredWorkload[]): string[] {
  const named = (wl: StoredWorkload) => (wl.spec as { source?: { credentialsSecretRef?: { name?: unknown } } } | undefined)?.source?.credentialsSecretRef?.name;
  return workloads.filter((wl) => named(wl) === secret.metadata?.name).map((wl) => objectKey(wl.metadata?.namespace, wl.metadata?.name ?? ''));
}
