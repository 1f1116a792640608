// The /etc/hosts of a pod's containers: the pod's own names, and the Services of its namespace
// (each at its own address on the namespace network, where the agent listens, see services.ts). A file
// the agent owns, bind-mounted read-only, and rewritten in place (same inode, so a running
// container sees the change) when the namespace's Services change.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface HostsContent {
  podIp: string;
  hostname: string;
  /** Lines "<address> <name> <name>..." for the namespace's Services. */
  services: string[];
}

export function renderHosts(content: HostsContent): string {
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    ...(content.podIp ? [`${content.podIp}\t${content.hostname}`] : []),
    '# The Services of this namespace: the provider agent relays them to wherever they run (Lattice).',
    ...content.services,
    '',
  ].join('\n');
}

/** Writes the pod's hosts file (under its state directory) and returns its path. */
export async function writeHostsFile(podDir: string, content: HostsContent): Promise<string> {
  const file = path.join(podDir, 'hosts');
  await mkdir(podDir, { recursive: true });
  await writeFile(file, renderHosts(content), { mode: 0o644 });
  return file;
}
