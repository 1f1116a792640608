// `docker build` and `docker push` with the provider's engine. The engine's layer cache is the
// build cache: an unchanged dependency manifest reuses the install layer, so a rebuild with no
// dependency change costs the copy of the code and what follows it.
import type Docker from 'dockerode';
import type { IncomingMessage } from 'node:http';
import type { Container } from '@lattice/protocol';
import { dockerStatusCode } from '../docker-errors.js';
import { registryOf } from '../images.js';
import type { BuildLog } from './build-log.js';

/** Docker refused or failed the build or the push; the message is Docker's. */
export class ImageBuildError extends Error {}

interface ProgressLine {
  stream?: string;
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Digest?: string; ID?: string };
}

/** Reads Docker's JSON progress stream into the log; resolves with the aux records, rejects on an error line. */
function follow(docker: Docker, stream: IncomingMessage, log: BuildLog, signal: AbortSignal, onLine?: (line: ProgressLine) => void): Promise<void> {
  const abort = () => stream.destroy(new Error('build cancelled'));
  signal.addEventListener('abort', abort, { once: true });
  return new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null) => {
        signal.removeEventListener('abort', abort);
        if (err) reject(new ImageBuildError(err.message));
        else resolve();
      },
      (line: ProgressLine) => {
        if (line.error) {
          log.line(line.error);
          stream.destroy();
          reject(new ImageBuildError(line.errorDetail?.message ?? line.error));
          return;
        }
        if (line.stream) log.write(line.stream);
        onLine?.(line);
      },
    );
  });
}

export interface BuildOptions {
  context: string;
  files: string[];
  dockerfile: string;
  tag: string;
  labels: Record<string, string>;
  /** The Docker network RUN steps run on. */
  network: string;
  /** The build pod's limits, applied to every RUN step. */
  resources: Container['resources'];
  /** The build pod's cgroup, for RUN steps to run inside (step-cgroup.ts), where the engine allows it. */
  cgroupParent?: string;
}

/** Builds the image; RUN steps' output goes to the log. */
export async function buildImage(docker: Docker, options: BuildOptions, log: BuildLog, signal: AbortSignal): Promise<void> {
  const { resources } = options;
  const limits: Record<string, number> = {};
  if (resources.memoryLimitBytes > 0) Object.assign(limits, { memory: resources.memoryLimitBytes, memswap: resources.memoryLimitBytes });
  if (resources.cpuLimitMillis > 0) Object.assign(limits, { cpuperiod: 100_000, cpuquota: resources.cpuLimitMillis * 100 });
  const parent = options.cgroupParent ? { cgroupparent: options.cgroupParent } : {};
  const stream = (await docker.buildImage(
    { context: options.context, src: options.files },
    { t: options.tag, dockerfile: options.dockerfile, labels: options.labels, networkmode: options.network, rm: true, forcerm: true, ...limits, ...parent },
  )) as IncomingMessage;
  await follow(docker, stream, log, signal);
}

/** Pushes the tag; returns the digest the registry stored it under (sha256:...). */
export async function pushImage(docker: Docker, tag: string, log: BuildLog, signal: AbortSignal): Promise<string> {
  // The engine insists on an X-Registry-Auth header, even empty; a registry's credentials are for later.
  const authconfig = { username: '', password: '', serveraddress: registryOf(tag) };
  const stream = (await docker.getImage(tag).push({ authconfig })) as IncomingMessage;
  let digest: string | undefined;
  await follow(docker, stream, log, signal, (line) => {
    digest ??= line.aux?.Digest;
    if (line.status && !line.id) log.line(line.status);
  });
  if (!digest) throw new ImageBuildError(`the registry did not report a digest for ${tag}`);
  return digest;
}

/** A Workload's build images kept on the provider: as many as the operator keeps its build Jobs. */
export const KEPT_IMAGES = 3;

/**
 * Removes the provider's copies of `repository`'s images but the newest `keep` (the registry keeps
 * its own). By image ID and never forced: an image a container still uses, running or stopped, or
 * one tagged in another repository too, is left (409), and so is its layer cache; the newest
 * images keep the dependency layers a rebuild reuses. Returns the IDs removed.
 */
export async function pruneImages(docker: Docker, repository: string, keep = KEPT_IMAGES): Promise<string[]> {
  const images = await docker.listImages({ filters: { reference: [repository] } });
  images.sort((a, b) => b.Created - a.Created || a.Id.localeCompare(b.Id));
  const removed: string[] = [];
  for (const image of images.slice(keep)) {
    try {
      await docker.getImage(image.Id).remove();
      removed.push(image.Id);
    } catch (err) {
      if (dockerStatusCode(err) !== 404 && dockerStatusCode(err) !== 409) throw err;
    }
  }
  return removed;
}
