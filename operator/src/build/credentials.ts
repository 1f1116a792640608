// The credentials Secret a build names (spec.source.credentialsSecretRef), checked before its Job
// is made: a Job whose Secret is missing would wait, its pod unable to start, until the build's
// time limit. Instead the build fails at once with the Secret's name and the key it lacks, and
// starts by itself once the Secret is there (the controller watches Secrets: secretWorkloads).
// An ssh Secret's known_hosts (optional: without it the agent accepts the host key on first use
// and logs its fingerprint) is checked to hold at least one key line: one with none would make
// every fetch fail host key verification, for a reason better said before.
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

/** A known_hosts line: [marker] hosts key-type base64-key [comment], as ssh-keyscan prints it. */
const KNOWN_HOST = /^(@\S+\s+)?\S+\s+\S+\s+[A-Za-z0-9+/]+={0,3}(\s.*)?$/;

/** Whether `known_hosts` (the Secret's base64 value) has a host key line. */
export const hasHostKey = (knownHosts: string) =>
  Buffer.from(knownHosts, 'base64')
    .toString('utf8')
    .split('\n')
    .some((line) => KNOWN_HOST.test(line.trim()) && !line.trim().startsWith('#'));

/** Why the build cannot start with `secret` (the one the Workload names, if it exists); undefined if it can. */
export function credentialsProblem(wl: Workload, secret: k8s.V1Secret | undefined): string | undefined {
  const name = wl.spec.source?.credentialsSecretRef?.name;
  if (!name) return undefined;
  if (!secret) {
    return `Secret ${name} (spec.source.credentialsSecretRef) does not exist in namespace ${wl.metadata.namespace}; the build starts once it does`;
  }
  const { key, what } = expectedKey(wl.spec.source!.url);
  if (!secret.data?.[key]) return `Secret ${name} (spec.source.credentialsSecretRef) has no key "${key}" (${what}); the build starts once it has`;
  const knownHosts = secret.data.known_hosts;
  if (isSshUrl(wl.spec.source!.url) && knownHosts !== undefined && !hasHostKey(knownHosts)) {
    return `Secret ${name} (spec.source.credentialsSecretRef) has a key "known_hosts" with no host key line (lines like "[host]:port ssh-ed25519 AAAA...", as ssh-keyscan prints them); fix or remove it (without it the host key is accepted on first use)`;
  }
  return undefined;
}

/** The Workloads of the Secret's namespace that name it for their builds. */
export function secretWorkloads(secret: k8s.V1Secret, workloads: readonly StoredWorkload[]): string[] {
  const named = (wl: StoredWorkload) => (wl.spec as { source?: { credentialsSecretRef?: { name?: unknown } } } | undefined)?.source?.credentialsSecretRef?.name;
  return workloads.filter((wl) => named(wl) === secret.metadata?.name).map((wl) => objectKey(wl.metadata?.namespace, wl.metadata?.name ?? ''));
}
