// Lattice's own images, all in the cluster's registry (hack/images builds them): one place for
// their names. Providers get them through the gateway's registry relay, never from the registry
// directly, so a provider needs nothing but the gateway's address.
import type { PlatformImages } from '@lattice/protocol';

/** The repository prefix of Lattice's images in `registry`; build base images are found under it. */
export const platformRepository = (registry: string) => `${registry}/lattice`;

/** The images an agent runs for itself, sent to it when it connects. */
export function agentImages(registry: string): PlatformImages {
  const repo = platformRepository(registry);
  return { sandbox: `${repo}/busybox:1`, isolation: `${repo}/iptables:2`, git: `${repo}/git:2` };
}

/** The PostgreSQL server image of a major version. */
export const postgresImage = (registry: string, version: string) => `${platformRepository(registry)}/postgres:${version}`;
