// Image pulls: the pull policy's decision, registry credentials, and the image ID a status reports.
import type Docker from 'dockerode';
import type { Container, PlatformImages, Pod } from '@lattice/protocol';
import { dockerMessage, isNotFound } from './docker-errors.js';

/** The image could not be had; `reason` is the container's waiting reason. */
export class ImagePullError extends Error {
  constructor(
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull',
    message: string,
  ) {
    super(message);
  }
}

/** Docker pulls every tag of a reference without one: pin `latest` as `docker pull` does. */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const name = image.slice(image.lastIndexOf('/') + 1);
  return name.includes(':') ? image : `${image}:latest`;
}

/** The repository part of a reference: no tag, no digest. */
export function repositoryOf(image: string): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
}

const DOCKER_HUB = 'docker.io';

/** The registry a reference is pulled from, by Docker's rule: a first component with a dot, a port or `localhost`. */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : DOCKER_HUB;
}

// A .dockerconfigjson key may be a URL (https://index.docker.io/v1/) or a bare host.
function normalizeServer(server: string): string {
  const host = server.replace(/^[a-z]+:\/\//i, '').split('/')[0] ?? '';
  return ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(host) ? DOCKER_HUB : host;
}

/** The credentials for the image's registry among the pod's pull secrets, in dockerode's shape. */
export function registryAuth(image: string, auths: Pod['registryAuths']): Docker.AuthConfig | undefined {
  const registry = registryOf(image);
  const auth = auths.find((a) => normalizeServer(a.server) === registry);
  return auth && { username: auth.username, password: auth.password, serveraddress: auth.server };
}

export async function imagePresent(docker: Docker, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** One of the agent's own images, or why there is none. */
export function platformImage(images: PlatformImages, which: keyof PlatformImages): string {
  const image = images[which];
  if (!image) throw new Error(`no ${which} image: the gateway named none (is it older than this agent?) and the agent config sets no ${which}Image`);
  return image;
}

/** One of the agent's own images (sandbox, host helper, git): pulled if missing, without credentials. */
export async function pullIfMissing(docker: Docker, image: string, signal: AbortSignal): Promise<void> {
  if (!(await imagePresent(docker, image))) await pullImage(docker, image, undefined, signal);
}

/** Pulls the image; rejects with ImagePullError carrying the registry's message. */
export async function pullImage(docker: Docker, image: string, auth: Docker.AuthConfig | undefined, signal: AbortSignal): Promise<void> {
  try {
    const stream = await docker.pull(withDefaultTag(image), { authconfig: auth, abortSignal: signal });
    // The daemon answers 200 and reports a failed pull inside the progress stream.
    const progress = await new Promise<unknown[]>((resolve, reject) => {
      docker.modem.followProgress(stream, (err: Error | null, output: unknown[]) => (err ? reject(err) : resolve(output)));
    });
    for (const line of progress) {
      const error = (line as { error?: unknown }).error;
      if (typeof error === 'string') throw new Error(error);
    }
  } catch (err) {
    throw new ImagePullError('ErrImagePull', dockerMessage(err));
  }
}

export interface ImageFacts {
  /** What the status reports as imageID: the digest reference (repo@sha256:...) when it came from a registry, else the image ID. */
  imageId: string;
  /** The image's configured user (USER). */
  user: string;
}

/** Facts about `ref` (a name or an image ID), pulled from `repository`. */
export async function imageFacts(docker: Docker, ref: string, repository: string): Promise<ImageFacts> {
  const info = await docker.getImage(ref).inspect();
  const digests = info.RepoDigests ?? [];
  return {
    imageId: digests.find((d) => d.startsWith(`${repository}@`)) ?? digests[0] ?? info.Id,
    user: info.Config?.User ?? '',
  };
}

/**
 * The container's image per its pull policy, with the pod's credentials for its registry;
 * `emit` gets the kubelet's Pulling and Pulled events. Rejects with ImagePullError.
 */
export async function ensureImage(
  docker: Docker,
  container: Pick<Container, 'image' | 'imagePullPolicy'>,
  auths: Pod['registryAuths'],
  signal: AbortSignal,
  emit: (reason: 'Pulling' | 'Pulled', message: string) => void,
): Promise<ImageFacts> {
  const { image, imagePullPolicy } = container;
  if (imagePullPolicy !== 'Always' && (await imagePresent(docker, image))) {
    emit('Pulled', `Container image "${image}" already present on machine`);
  } else if (imagePullPolicy === 'Never') {
    throw new ImagePullError('ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`);
  } else {
    emit('Pulling', `Pulling image "${image}"`);
    const started = Date.now();
    await pullImage(docker, image, registryAuth(image, auths), signal);
    emit('Pulled', `Successfully pulled image "${image}" in ${((Date.now() - started) / 1000).toFixed(3)}s`);
  }
  return imageFacts(docker, image, repositoryOf(image));
}
