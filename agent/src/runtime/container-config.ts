// What Docker is asked to create for a pod: its sandbox, and each container joined to it.
import type Docker from 'dockerode';
import type { Container, Pod } from '@lattice/protocol';
import { podHostname } from './naming.js';
import { resourceLimits, type Ceiling } from './resources.js';
import { CONTAINER_CAPABILITIES, confinement } from './security.js';

export interface SandboxConfig {
  name: string;
  image: string;
  pod: Pick<Pod, 'hostname' | 'name'>;
  network: string;
  labels: Record<string, string>;
  /** Volumes it mounts to prepare them for the pod's containers (sandbox.ts). */
  mounts?: Docker.MountSettings[];
}

/**
 * The pod sandbox: it holds the pod's network and IPC namespaces (the pod IP, the shared
 * localhost) for the containers that join it, in a busybox-like image (`sleep infinity`, and
 * `chmod` for the emptyDirs it mounts: sandbox.ts). It needs no capability at all.
 */
export function sandboxCreateOptions(config: SandboxConfig): Docker.ContainerCreateOptions {
  return {
    name: config.name,
    Image: config.image,
    Cmd: ['sleep', 'infinity'],
    Hostname: podHostname(config.pod),
    Labels: config.labels,
    HostConfig: {
      ...confinement([]),
      NetworkMode: config.network,
      IpcMode: 'shareable',
      ...(config.mounts?.length ? { Mounts: config.mounts } : {}),
    },
    NetworkingConfig: { EndpointsConfig: { [config.network]: {} } },
  };
}

export interface ContainerConfig {
  name: string;
  container: Container;
  pod: Pick<Pod, 'terminationGracePeriodSeconds'>;
  sandboxId: string;
  /** The pod IP (the sandbox's), for env that asks for it. */
  podIp: string;
  labels: Record<string, string>;
  mounts: Docker.MountSettings[];
  /** The image's configured user (`USER`), for a runAsGroup without runAsUser. */
  imageUser: string;
  /** The limits it gets when it sets none (the provider's offer). */
  ceiling?: Ceiling;
}

/**
 * Docker's `User` for runAsUser/runAsGroup; undefined keeps the image's user. A group alone
 * applies to the image's user (root when the image names none).
 */
export function dockerUser(container: Pick<Container, 'runAsUser' | 'runAsGroup'>, imageUser: string): string | undefined {
  const { runAsUser, runAsGroup } = container;
  if (runAsGroup == null) return runAsUser == null ? undefined : String(runAsUser);
  const user = runAsUser ?? (imageUser.split(':')[0] || '0');
  return `${user}:${runAsGroup}`;
}

/**
 * The profile's capabilities less those the container drops (ALL: every one), an added one kept
 * even so (drop ALL, add NET_BIND_SERVICE), one named in both dropped: containerd's order.
 */
export function containerCapabilities(container: Pick<Container, 'addCapabilities' | 'dropCapabilities'>): string[] {
  const drop = new Set(container.dropCapabilities);
  const add = new Set(container.addCapabilities);
  return CONTAINER_CAPABILITIES.filter((cap) => !drop.has(cap) && (add.has(cap) || !drop.has('ALL')));
}

/**
 * Why a container with runAsNonRoot may not start as its user would be root, in the kubelet's
 * words (verifyRunAsNonRoot); undefined when it may. A user name cannot be checked without the
 * image's /etc/passwd, so it is refused, as the kubelet refuses it.
 */
export function nonRootViolation(container: Pick<Container, 'name' | 'runAsNonRoot' | 'runAsUser'>, imageUser: string, pod: Pick<Pod, 'name' | 'namespace' | 'uid'>): string | undefined {
  if (!container.runAsNonRoot) return undefined;
  const where = `(pod: "${pod.name}_${pod.namespace}(${pod.uid})", container: ${container.name})`;
  if (container.runAsUser != null) return container.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  const user = imageUser.split(':')[0] ?? '';
  if (user === '' || user === '0') return `container has runAsNonRoot and image will run as root ${where}`;
  if (!/^\d+$/.test(user)) return `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root ${where}`;
  return undefined;
}

export function containerCreateOptions(config: ContainerConfig): Docker.ContainerCreateOptions {
  const { container } = config;
  const sandbox = `container:${config.sandboxId}`;
  const options: Docker.ContainerCreateOptions = {
    name: config.name,
    Image: container.image,
    Env: container.env.map((e) => `${e.name}=${e.fromPodIp ? config.podIp : e.value}`),
    Labels: config.labels,
    Tty: container.tty,
    OpenStdin: container.stdin,
    AttachStdin: false,
    StopTimeout: config.pod.terminationGracePeriodSeconds,
    HostConfig: {
      ...confinement(containerCapabilities(container)),
      ...resourceLimits(container.resources, config.ceiling),
      ReadonlyRootfs: container.readOnlyRootFilesystem,
      NetworkMode: sandbox,
      IpcMode: sandbox,
      Mounts: config.mounts,
    },
  };
  // Kubernetes' command replaces the image's ENTRYPOINT and args its CMD; Docker drops the image's
  // CMD when ENTRYPOINT is given, which is Kubernetes' rule for a command without args too.
  if (container.command.length > 0) options.Entrypoint = container.command;
  if (container.args.length > 0) options.Cmd = container.args;
  if (container.workingDir) options.WorkingDir = container.workingDir;
  const user = dockerUser(container, config.imageUser);
  if (user !== undefined) options.User = user;
  return options;
}
