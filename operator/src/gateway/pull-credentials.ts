// A pod's imagePullSecrets -> the registry credentials its provider pulls with.
//
// The Secrets are the tenant's: anything may be in them. As the kubelet does, a pull Secret that is
// missing or unreadable is skipped with a warning (the pull goes on without it, and may still work
// for a public image) instead of failing the pod or, thrown from an informer callback, the gateway.
import type * as k8s from '@kubernetes/client-node';
import type { Pod } from '@lattice/protocol';
import { z } from 'zod';
import type { PodResolver } from './pod-translation.js';
import { textOf } from '../kube/secret-data.js';

/** One registry's entry: user and password, or both in `auth` as base64 of user:password. */
const Entry = z.object({ username: z.string().optional(), password: z.string().optional(), auth: z.string().optional() });
const Auths = z.record(z.string(), Entry);
/** kubernetes.io/dockerconfigjson: {"auths": {server: entry}}. */
const DockerConfigJson = z.object({ auths: Auths });

export interface PullCredentials {
  auths: Pod['registryAuths'];
  /** One sentence per pull Secret that was skipped, naming it and why. */
  problems: string[];
}

function parseEntries(secret: k8s.V1Secret): z.infer<typeof Auths> {
  const json = secret.data?.['.dockerconfigjson'];
  // kubernetes.io/dockercfg, the older form: the auths map itself.
  const legacy = secret.data?.['.dockercfg'];
  if (!json && !legacy) throw new Error('has no .dockerconfigjson key (a kubernetes.io/dockerconfigjson Secret has one)');
  const key = json ? '.dockerconfigjson' : '.dockercfg';
  let parsed: unknown;
  try {
    parsed = JSON.parse(textOf((json ?? legacy)!));
  } catch {
    throw new Error(`has a ${key} that is not JSON`);
  }
  const result = json ? DockerConfigJson.safeParse(parsed).data?.auths : Auths.safeParse(parsed).data;
  if (!result) throw new Error(`has a ${key} that is not a Docker config (expected ${json ? '{"auths": {"<registry>": {"auth": "…"}}}' : '{"<registry>": {"auth": "…"}}'})`);
  return result;
}

function credentialsOf(server: string, entry: z.infer<typeof Entry>): Pod['registryAuths'][number] {
  if (!entry.auth) return { server, username: entry.username ?? '', password: entry.password ?? '' };
  const decoded = textOf(entry.auth);
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new Error(`has an auth for ${server} that is not base64 of user:password`);
  return { server, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function pullCredentials(pod: k8s.V1Pod, r: PodResolver): PullCredentials {
  const result: PullCredentials = { auths: [], problems: [] };
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    const name = ref.name ?? '';
    const secret = r.secret(pod.metadata!.namespace!, name);
    if (!secret) {
      result.problems.push(`imagePullSecrets: Secret "${name}" does not exist`);
      continue;
    }
    try {
      // All of one Secret's entries, or none: half a Secret would be a puzzle to debug.
      result.auths.push(...Object.entries(parseEntries(secret)).map(([server, entry]) => credentialsOf(server, entry)));
    } catch (err) {
      result.problems.push(`imagePullSecrets: Secret "${name}" ${(err as Error).message}`);
    }
  }
  return result;
}
