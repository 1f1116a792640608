// The pod sandbox: a container that only holds the pod's network (its IP on the namespace's
// bridge, the localhost its containers share) and IPC namespaces.
import type Docker from 'dockerode';
import type { Pod } from '@lattice/protocol';
import { sandboxCreateOptions } from './container-config.js';
import { ignoreGone, isNotFound } from './docker-errors.js';
import { pullIfMissing } from './images.js';
import { namespaceNetworkName, sandboxName } from './naming.js';

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
  signal: AbortSignal;
}

/** Creates and starts the pod's sandbox, pulling its image if missing. */
export async function startSandbox(docker: Docker, request: SandboxRequest): Promise<Sandbox> {
  const { image, pod, network, labels, signal } = request;
  await pullIfMissing(docker, image, signal);
  const name = sandboxName(pod);
  // One of the same name is left from an attempt that failed after creating it.
  await ignoreGone(docker.getContainer(name).remove({ force: true }));
  const created = await docker.createContainer(sandboxCreateOptions({ name, image, pod, network, labels }));
  await created.start();
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
