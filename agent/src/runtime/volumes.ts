// A pod's volumes on the provider, and how its containers mount them:
// - emptyDir: a Docker named volume (a size-limited tmpfs for medium Memory), removed with the pod;
// - files (resolved Secrets and ConfigMaps): files the agent writes under its state directory,
//   bind-mounted read-only; the only host paths a container ever sees;
// - local: the named volume of a lattice-local PersistentVolume; it outlives the pod.
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Container, Pod, Volume } from '@lattice/protocol';
import { ignoreGone, isNotFound } from './docker-errors.js';
import type { DiskTargets } from './disk-usage.js';
import { LABEL, emptyDirVolumeName } from './naming.js';

/** A pod asks for something the runtime will not or cannot mount (CreateContainerConfigError). */
export class ContainerConfigError extends Error {}

/** A Docker volume (`copy`: whether a container's first mount fills it from the image) or a bind mount. */
export type PreparedVolume = { kind: 'volume'; name: string; copy: boolean } | { kind: 'bind'; path: string };

/**
 * A mount's volume options. `noCopy` keeps the image's files at the mount path out of an empty
 * volume: an emptyDir starts empty, as on a kubelet, whatever the image has there.
 */
export function volumeOptions(noCopy: boolean, subpath?: string): NonNullable<Docker.MountSettings['VolumeOptions']> {
  return { NoCopy: noCopy, Labels: {}, DriverConfig: { Name: 'local', Options: {} }, ...(subpath ? { Subpath: subpath } : {}) };
}

/** A name used as one path component: a malformed uid or volume name can never reach `..` or `/`. */
function pathSegment(name: string, what: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new ContainerConfigError(`${what} "${name}" is not a valid name`);
  return name;
}

/** The directory of everything the agent writes for a pod. */
export function podStateDir(stateDir: string, uid: string): string {
  return path.join(podsDir(stateDir), pathSegment(uid, 'pod uid'));
}

const podsDir = (stateDir: string) => path.join(path.resolve(stateDir), 'pods');

/**
 * The pods' directory, for the agent's user alone: it holds tenants' Secrets as files, and the
 * state directory may be readable by other users of the machine (a home directory often is).
 * Containers still read their files: Docker bind-mounts each volume's own directory.
 */
async function ensurePrivatePodsDir(stateDir: string): Promise<void> {
  const dir = podsDir(stateDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700); // made before, or by an older agent, with a wider mode
}

/** `relative` inside `root`; refuses absolute paths and `..` so a path can never leave the volume. */
export function resolveInside(root: string, relative: string, what: string): string {
  if (path.isAbsolute(relative) || relative.split(/[\\/]/).includes('..')) {
    throw new ContainerConfigError(`${what} "${relative}" must be a relative path without ".."`);
  }
  return path.join(root, relative);
}

async function writeFiles(dir: string, volume: NonNullable<Volume['files']>): Promise<void> {
  // Rewritten whole: a new revision may have removed files, and no container has them mounted now.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  for (const file of volume.files) {
    const target = resolveInside(dir, file.path, 'file path');
    await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
    const mode = file.mode || volume.defaultMode || 0o644;
    await writeFile(target, file.content, { mode });
    await chmod(target, mode); // writeFile's mode is filtered by the umask
  }
}

/** An existing volume with label `label` is used as is; one without it is not ours to touch. */
async function ensureNamedVolume(docker: Docker, options: Docker.VolumeCreateOptions & { Name: string }, label: string): Promise<void> {
  try {
    const existing = (await docker.getVolume(options.Name).inspect()) as { Labels?: Record<string, string> | null };
    if (existing.Labels?.[label] === undefined) {
      throw new ContainerConfigError(`Docker volume "${options.Name}" exists but was not created by Lattice; it is not mounted`);
    }
    return;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  await docker.createVolume(options);
}

/** The Docker volumes of every emptyDir of the pod, memory-backed ones included. */
export function emptyDirVolumes(pod: Pod): string[] {
  return pod.volumes.filter((v) => v.source === 'emptyDir').map((v) => emptyDirVolumeName(pod.uid, v.name));
}

/** The pod's disk-backed emptyDir volumes: their names in the pod, Docker volumes and size limits. */
export function diskEmptyDirs(pod: Pod): DiskTargets['emptyDirs'] {
  return pod.volumes
    .filter((v) => v.source === 'emptyDir' && v.emptyDir?.medium !== 'Memory')
    .map((v) => ({ name: v.name, volume: emptyDirVolumeName(pod.uid, v.name), sizeLimitBytes: v.emptyDir?.sizeLimitBytes ?? 0 }));
}

/** Creates or writes every volume of the pod; returns what each volume name mounts. */
export async function prepareVolumes(docker: Docker, nodeName: string, pod: Pod, stateDir: string): Promise<Map<string, PreparedVolume>> {
  const prepared = new Map<string, PreparedVolume>();
  for (const volume of pod.volumes) {
    if (volume.source === 'emptyDir') {
      const name = emptyDirVolumeName(pod.uid, volume.name);
      const sizeLimit = volume.emptyDir?.sizeLimitBytes ?? 0;
      await ensureNamedVolume(
        docker,
        {
          Name: name,
          Driver: 'local',
          // A tmpfs-backed named volume (not a per-container tmpfs mount) so the pod's containers share it.
          DriverOpts:
            volume.emptyDir?.medium === 'Memory'
              ? { type: 'tmpfs', device: 'tmpfs', ...(sizeLimit > 0 ? { o: `size=${sizeLimit}` } : {}) }
              : {},
          Labels: { [LABEL.node]: nodeName, [LABEL.podUid]: pod.uid, [LABEL.volume]: volume.name },
        },
        LABEL.podUid,
      );
      prepared.set(volume.name, { kind: 'volume', name, copy: false });
    } else if (volume.source === 'files') {
      await ensurePrivatePodsDir(stateDir);
      const dir = path.join(podStateDir(stateDir, pod.uid), 'volumes', pathSegment(volume.name, 'volume name'));
      await writeFiles(dir, volume.files ?? { files: [], defaultMode: 0o644 });
      prepared.set(volume.name, { kind: 'bind', path: dir });
    } else {
      const name = volume.local?.volumeName;
      if (!name) throw new ContainerConfigError(`volume "${volume.name}": a local volume needs a volume name`);
      await ensureNamedVolume(docker, { Name: name, Driver: 'local', Labels: { [LABEL.localVolume]: name } }, LABEL.localVolume);
      // A local volume takes the image's files and owner on its first mount (PostgreSQL's data directory).
      prepared.set(volume.name, { kind: 'volume', name, copy: true });
    }
  }
  return prepared;
}

/**
 * The container's mounts. Files volumes are always read-only, like Secret and ConfigMap volumes.
 * A subPath of a named volume needs Docker's volume subpaths (API 1.45, Engine 26): the runtime
 * never resolves one on the host itself, where a symlink planted in the volume could point anywhere.
 */
export function containerMounts(container: Container, volumes: Map<string, PreparedVolume>, volumeSubpaths: boolean): Docker.MountSettings[] {
  return container.volumeMounts.map((mount) => {
    const volume = volumes.get(mount.name);
    if (!volume) throw new ContainerConfigError(`volume mount "${mount.name}" names no volume of the pod`);
    if (!path.posix.isAbsolute(mount.mountPath)) {
      throw new ContainerConfigError(`volume mount "${mount.name}": mountPath "${mount.mountPath}" must be absolute`);
    }
    if (volume.kind === 'bind') {
      const source = mount.subPath ? resolveInside(volume.path, mount.subPath, 'subPath') : volume.path;
      return { Type: 'bind', Source: source, Target: mount.mountPath, ReadOnly: true };
    }
    if (mount.subPath) {
      if (!volumeSubpaths) {
        throw new ContainerConfigError(
          `volume mount "${mount.name}": subPath on emptyDir and local volumes needs Docker Engine 26 or later on the provider`,
        );
      }
      resolveInside('/', mount.subPath, 'subPath');
    }
    const settings: Docker.MountSettings = { Type: 'volume', Source: volume.name, Target: mount.mountPath, ReadOnly: mount.readOnly };
    if (!volume.copy || mount.subPath) settings.VolumeOptions = volumeOptions(!volume.copy, mount.subPath);
    return settings;
  });
}

/** Removes the pod's emptyDir volumes and generated files; lattice-local volumes stay. */
export async function removePodVolumes(docker: Docker, nodeName: string, uid: string, stateDir: string): Promise<void> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [`${LABEL.node}=${nodeName}`, `${LABEL.podUid}=${uid}`] } });
  await Promise.all((Volumes ?? []).map((v) => ignoreGone(docker.getVolume(v.Name).remove())));
  // Retried: a file written as the pod goes (a last log line, a rename) must not fail its removal.
  await rm(podStateDir(stateDir, uid), { recursive: true, force: true, maxRetries: 3, retryDelay: 50 });
}

/** Removes a lattice-local volume whose PersistentVolume was deleted; any other volume is refused. */
export async function deleteLocalVolume(docker: Docker, name: string): Promise<void> {
  let labels: Record<string, string> | null | undefined;
  try {
    labels = ((await docker.getVolume(name).inspect()) as { Labels?: Record<string, string> | null }).Labels;
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  if (labels?.[LABEL.localVolume] === undefined) {
    throw new Error(`Docker volume "${name}" is not a lattice-local volume (no ${LABEL.localVolume} label); it was left alone`);
  }
  await ignoreGone(docker.getVolume(name).remove());
}
