// The pod sandbox: a container that holds the pod's network (its IP on the namespace's bridge,
// the localhost its containers share) and IPC namespaces. It also holds the pod's emptyDir
// volumes: it makes them world-writable (0777, as the kubelet makes them), so a container of any
// user can write there (Docker creates a volume root-owned and 0755), and keeps them mounted, so a
// memory-backed one (a tmpfs, which Docker unmounts when no container uses it) keeps its contents
// while the pod's containers restart, as on a kubelet.
import type Docker from 'dockerode';
import type { Pod } from '@lattice/protocol';
import { sandboxCreateOptions } from './container-config.js';
import { ignoreGone, isNotFound } from './docker-errors.js';
import { startExec } from './exec.js';
import { pullIfMissing } from './images.js';
import { namespaceNetworkName, sandboxName } from './naming.js';
import { volumeOptions } from './volumes.js';

export interface Sandbox {
  id: string;
  /** The pod IP: the sandbox's address on its namespace network. */
  ip: string;
  running: boolean;
}

export function sandboxIp(info: Docker.ContainerInspectInfo, namespace: string): string {
  return info.NetworkSettings.Networks[namespaceNetworkName(namespace)]?.IPAddress ?? '';
}

export interface SandboxRequest {
  image: string;
  pod: Pod;
  /** The namespace network, which must exist. */
  network: string;
  labels: Record<string, string>;
  /** The Docker volumes of the pod's emptyDirs. */
  emptyDirs: string[];
  signal: AbortSignal;
}

/** Where the sandbox mounts the emptyDir volumes it prepares. */
const EMPTY_DIR_MOUNTS = '/.lattice-emptydir';

/** Creates and starts the pod's sandbox, pulling its image if missing. */
export async function startSandbox(docker: Docker, request: SandboxRequest): Promise<Sandbox> {
  const { image, pod, network, labels, emptyDirs, signal } = request;
  await pullIfMissing(docker, image, signal);
  const name = sandboxName(pod);
  // One of the same name is left from an attempt that failed after creating it.
  await ignoreGone(docker.getContainer(name).remove({ force: true }));
  // By index: a volume's name in the pod need not be a safe path.
  const mounts = emptyDirs.map((volume, i): Docker.MountSettings => ({ Type: 'volume', Source: volume, Target: `${EMPTY_DIR_MOUNTS}/${i}`, VolumeOptions: volumeOptions(true) }));
  const created = await docker.createContainer(sandboxCreateOptions({ name, image, pod, network, labels, mounts }));
  await created.start();
  if (mounts.length) await worldWritable(docker, created.id, mounts.map((m) => m.Target));
  const info = await created.inspect();
  return { id: info.Id, ip: sandboxIp(info, pod.namespace), running: info.State.Running };
}

/** Whether the sandbox still runs (its death may not have been reported yet). */
export async function sandboxRunning(docker: Docker, sandbox: Sandbox): Promise<boolean> {
  try {
    return (await docker.getContainer(sandbox.id).inspect()).State.Running;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** chmod 0777 in the sandbox, before any container of the pod starts. */
async function worldWritable(docker: Docker, sandboxId: string, paths: string[]): Promise<void> {
  const session = startExec(docker, sandboxId, { command: ['chmod', '0777', ...paths], stdin: false, stdout: true, stderr: true, tty: false });
  let output = '';
  for await (const chunk of session.output) output += chunk.data.toString();
  const code = await session.exit;
  if (code !== 0) throw new Error(`making the emptyDir volumes writable failed (chmod exited ${code}): ${output.trim()}`);
}
