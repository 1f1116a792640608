// Who may read and write what in the cluster's image registry, through the gateway: a pure
// decision from the request and the pods bound to the asking node, as the Node authorizer decides
// a kubelet's reads from the pods bound to it. The registry itself trusts whoever reaches it, so
// this is the only gate between a provider and other tenants' images.
import type * as k8s from '@kubernetes/client-node';
import { BUILD_ENV, BUILDER_IMAGE, buildNamespaceOf } from '@lattice/protocol';

/** Lattice's own images (sandbox, helpers, build bases, PostgreSQL): readable by every node. */
const PLATFORM_PREFIX = 'lattice/';

// A repository name as the distribution spec has it: lower-case components joined by '/'.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const ROUTE = new RegExp(`^/v2/(${COMPONENT}(?:/${COMPONENT})*)/(manifests/[^/]+|blobs/uploads/[^/]*|blobs/[^/]+|tags/list)$`);

export type RegistryDecision = { allowed: true; repository?: string } | { allowed: false; status: number; code: string; message: string };

const denied = (message: string): RegistryDecision => ({ allowed: false, status: 403, code: 'DENIED', message });

/**
 * The repositories of the cluster registry the node's pods run images from, and those its builds
 * push to; of tenants' builds (builds/<namespace>/...), only their own namespace's.
 */
export function nodeRepositories(registry: string, pods: readonly k8s.V1Pod[]): { pull: Set<string>; push: Set<string> } {
  const pull = new Set<string>();
  const push = new Set<string>();
  const prefix = `${registry}/`;
  for (const pod of pods) {
    // A tenant's builds are its namespace's: a pod naming another's is given none of it.
    const own = (repository: string) => !repository.startsWith('builds/') || buildNamespaceOf(repository) === pod.metadata?.namespace;
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const image = c.image?.startsWith(prefix) && repositoryOf(c.image.slice(prefix.length));
      if (image && own(image)) pull.add(image);
      if (c.image !== BUILDER_IMAGE) continue;
      const target = c.env?.find((e) => e.name === BUILD_ENV.repository)?.value;
      if (target?.startsWith(prefix) && own(target.slice(prefix.length))) push.add(target.slice(prefix.length));
    }
  }
  return { pull, push };
}

/** `name[:tag][@digest]` without its tag and digest. */
function repositoryOf(reference: string): string {
  const name = reference.split('@')[0]!;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

/**
 * May the node make this request? `path` is the request's path without its query. Reads (GET,
 * HEAD) need the repository to be Lattice's or one the node's pods run; writes (a push: POST, PUT,
 * PATCH of blobs and manifests) need a build bound to the node that targets it. Nothing deletes.
 */
export function decide(method: string, path: string, repositories: { pull: Set<string>; push: Set<string> }): RegistryDecision {
  if (path === '/v2/' || path === '/v2') {
    return method === 'GET' || method === 'HEAD' ? { allowed: true } : denied(`${method} ${path} is not allowed`);
  }
  const route = ROUTE.exec(path);
  if (!route) return denied(`${path} is not a registry path this gateway relays`);
  const repository = route[1]!;
  const read = method === 'GET' || method === 'HEAD';
  const write = method === 'POST' || method === 'PUT' || method === 'PATCH';
  if (route[2] === 'tags/list') return denied('listing tags is not allowed');
  if (read && (repository.startsWith(PLATFORM_PREFIX) || repositories.pull.has(repository) || repositories.push.has(repository))) {
    return { allowed: true, repository };
  }
  if (write && repositories.push.has(repository)) return { allowed: true, repository };
  return read
    ? denied(`no pod bound to this node runs an image of ${repository}`)
    : denied(`${method} on ${repository} is not allowed: only a build bound to this node pushes, to its own repository`);
}
