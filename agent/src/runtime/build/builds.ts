// Build pods on this node. The operator makes each build a Job whose pod's one container has the
// reserved image BUILDER_IMAGE; the scheduler places it like any pod (so its CPU and memory are
// reserved on this provider). Here such a pod is run as an ordinary pod whose container, instead
// of the reserved image, prints the build's log file and exits with the build's status (see
// build-log.ts), while the agent does the build beside it. So `kubectl logs -f`, the pod's phase,
// its exit code and its deletion (the Job's time limit, or the Workload deleted) all take the
// runtime's ordinary paths, and the result reaches the operator as the container's termination
// message, as Kubernetes passes a container's result.
//
// The build starts once that container runs (so its log folder is there, and stays: the runtime
// prepares a pod's volumes before its container starts), and is cancelled when the pod is removed.
// An agent restarted during a build finds the container still printing and runs the build again
// from the start, appending to the log.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import {
  BUILDER_IMAGE,
  CREDENTIALS_VOLUME,
  type BuildRequest,
  type BuildResult,
  type PlatformImages,
  type Pod,
  type PodStatus,
  buildNamespaceOf,
  buildRequestFromEnv,
} from '@lattice/protocol';
import { platformImage } from '../images.js';
import { namespaceNetworkName } from '../naming.js';
import { BuildLog, printLogScript } from './build-log.js';
import { BuildConfigError, checkDockerfile, dockerfileFor } from './dockerfile.js';
import { GitError, type GitCredentials, checkout, secretsOf } from './git.js';
import { ImageBuildError, buildImage, pruneImages, pushImage } from './image.js';
import { contextFiles, projectFacts, readText } from './project.js';
import { buildPodCgroup } from './step-cgroup.js';

/** The volume holding the log (bind-mounted read-only into the build pod's container). */
const LOG_VOLUME = 'lattice-build-log';
const LOG_MOUNT = '/build';
const LOG_FILE = 'build.log';
const RESULT_FILE = 'result.json';

export const isBuildPod = (pod: Pod) => pod.containers.length === 1 && pod.containers[0]!.image === BUILDER_IMAGE;

export interface BuildsOptions {
  docker: Docker;
  /**
   * The agent's own images: the build pod's container prints the log with the sandbox image
   * (anything with a POSIX sh); the source is fetched with the git image, confined (see git.ts).
   */
  images: PlatformImages;
  /** The pod's directory under the agent's state directory (removed with the pod). */
  podDir: (uid: string) => string;
  logger: Logger;
}

function credentialsOf(pod: Pod): GitCredentials | undefined {
  const files = pod.volumes.find((v) => v.name === CREDENTIALS_VOLUME)?.files?.files;
  if (!files) return undefined;
  const text = (name: string) => {
    const file = files.find((f) => f.path === name);
    return file && Buffer.from(file.content).toString('utf8');
  };
  return { username: text('username'), password: text('password'), sshPrivateKey: text('ssh-privatekey'), knownHosts: text('known_hosts') };
}

export class Builds {
  /** Builds started, by pod uid, until the pod is removed (a build that ended is not started again). */
  private readonly started = new Map<string, AbortController>();
  /** What prepare() kept of each build pod (the request is in the original pod only). */
  private readonly sources = new Map<string, BuildSource>();

  constructor(private readonly options: BuildsOptions) {}

  /**
   * The pod as the runtime runs it: a build pod's container becomes the log printer, with the
   * log's folder as its only volume (the credentials are mounted nowhere).
   */
  prepare(pod: Pod): Pod {
    if (!isBuildPod(pod)) return pod;
    const container = pod.containers[0]!;
    const source = { uid: pod.uid, container: container.name, namespace: pod.namespace, pod: `${pod.namespace}/${pod.name}`, request: container.env, credentials: credentialsOf(pod), resources: container.resources, logDir: this.logDir(pod.uid) };
    this.sources.set(pod.uid, source);
    // A log folder without a result is a build an earlier agent left unfinished (its printer still
    // waits): it is run again at once, as no status change of the printer will come to start it.
    if (!this.started.has(pod.uid) && existsSync(source.logDir) && !existsSync(path.join(source.logDir, RESULT_FILE))) {
      this.start(pod.uid, source);
    }
    return {
      ...pod,
      volumes: [{ name: LOG_VOLUME, source: 'files', files: { files: [], defaultMode: 0o644 } }],
      containers: [
        {
          ...container,
          image: platformImage(this.options.images, 'sandbox'),
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', printLogScript(`${LOG_MOUNT}/${LOG_FILE}`)],
          args: [],
          env: [],
          volumeMounts: [{ name: LOG_VOLUME, mountPath: LOG_MOUNT, readOnly: true, subPath: '' }],
          readinessProbe: null,
          livenessProbe: null,
          startupProbe: null,
        },
      ],
    };
  }

  /**
   * A pod status on its way to the gateway: a build pod's container that runs starts its build;
   * one that ended carries the build's result as its termination message.
   */
  observe(status: PodStatus): PodStatus {
    const source = this.sources.get(status.uid);
    if (!source || status.deleted) return status;
    const container = status.containerStatuses[0];
    if (container?.state.state === 'running' && !this.started.has(status.uid)) this.start(status.uid, source);
    if (container?.state.state !== 'terminated' || !container.state.terminated) return status;
    // Read at once (a small file), so statuses leave in the order they were made.
    let result: string;
    try {
      result = readFileSync(path.join(source.logDir, RESULT_FILE), 'utf8');
    } catch {
      return status;
    }
    const terminated = { ...container.state.terminated, message: result };
    return { ...status, containerStatuses: [{ ...container, state: { ...container.state, terminated } }] };
  }

  /** The pod is going away: its build, if any, is cancelled. */
  cancel(uid: string): void {
    this.started.get(uid)?.abort();
    this.started.delete(uid);
    this.sources.delete(uid);
  }

  /** Cancels every build (the agent stops); a new agent runs them again. */
  stop(): void {
    for (const uid of [...this.started.keys()]) this.cancel(uid);
  }

  /**
   * The folder the runtime bind-mounts for the log volume: the files volume's own folder, which
   * the runtime (re)creates empty before the container starts, and removes with the pod.
   */
  private logDir(uid: string): string {
    return path.join(this.options.podDir(uid), 'volumes', LOG_VOLUME);
  }

  private start(uid: string, source: BuildSource): void {
    const abort = new AbortController();
    this.started.set(uid, abort);
    const log = this.options.logger.child({ build: source.pod });
    log.info('build started');
    void this.run(uid, source, abort.signal)
      .then(() => log.info('build ended'))
      .catch((err: unknown) => log.error({ err }, 'build could not report its end'));
  }

  private async run(uid: string, source: BuildSource, signal: AbortSignal): Promise<void> {
    const started = Date.now();
    const logFile = path.join(source.logDir, LOG_FILE);
    const again = existsSync(logFile);
    const buildLog = new BuildLog(logFile, secretsOf(source.credentials));
    if (again) buildLog.line('the agent restarted during the build: building again from the start');
    const workDir = path.join(this.options.podDir(uid), 'source');
    const network = namespaceNetworkName(source.namespace);
    let commit: string | undefined;
    let result: BuildResult;
    try {
      const request = buildRequestFromEnv(source.request);
      checkRepository(request.repository, source.namespace);
      await rm(workDir, { recursive: true, force: true });
      await mkdir(workDir, { recursive: true });
      buildLog.line(`cloning ${request.url} at ${request.ref}`);
      commit = await checkout(
        request.url,
        request.ref,
        {
          docker: this.options.docker,
          image: platformImage(this.options.images, 'git'),
          network,
          name: `lattice-build-fetch-${uid}`,
          dir: workDir,
          privateDir: path.join(this.options.podDir(uid), 'git'),
          credentials: source.credentials,
          resources: source.resources,
          labels: { 'lattice.dev/build-pod': source.pod },
        },
        buildLog,
        signal,
      );
      buildLog.line(`commit ${commit}`);
      const image = await this.buildAndPush(request, source, network, await contextIn(workDir, request.contextDir), commit, buildLog, signal);
      result = { commit, image, durationSeconds: seconds(started) };
      buildLog.line(`image built ${image} in ${result.durationSeconds}s`);
    } catch (err) {
      if (signal.aborted) return;
      const known = err instanceof GitError || err instanceof ImageBuildError || err instanceof BuildConfigError;
      const message = buildLog.mask(known ? (err as Error).message : `build failed: ${(err as Error).message}`);
      buildLog.line(`error: ${message}`);
      result = { commit, durationSeconds: seconds(started), error: `${message}\n--- last lines of the build log ---\n${buildLog.lastLines()}`.slice(-8000) };
    } finally {
      await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    }
    // The result before the end marker: the container's exit is what makes it read.
    await writeFile(path.join(source.logDir, RESULT_FILE), JSON.stringify(result));
    await buildLog.end(result.error ? 1 : 0);
  }

  private async buildAndPush(
    request: BuildRequest,
    source: BuildSource,
    network: string,
    context: string,
    commit: string,
    log: BuildLog,
    signal: AbortSignal,
  ): Promise<string> {
    const { docker } = this.options;
    const dockerfile = dockerfileFor(request, await projectFacts(context));
    if (dockerfile.content) {
      await writeFile(path.join(context, dockerfile.path), dockerfile.content);
      log.line(`strategy ${request.strategy}: generated Dockerfile`);
      log.write(dockerfile.content);
    } else {
      log.line(`strategy dockerfile: ${dockerfile.path}`);
      const text = await readText(path.join(context, dockerfile.path));
      if (text === undefined) throw new BuildConfigError(`${dockerfile.path} is not a file in the repository (a symlink is not followed)`);
      checkDockerfile(text, dockerfile.path);
    }
    const tag = `${request.repository}:${commit.slice(0, 12)}`;
    const cgroupParent = await buildPodCgroup(docker, source.uid, source.container);
    if (!cgroupParent) this.options.logger.warn({ build: source.pod }, "this engine cannot run RUN steps in the build pod's cgroup: they are bounded by their CPU and memory limits only, not by a process limit");
    log.line(`building ${tag}`);
    await buildImage(
      docker,
      {
        context,
        files: await contextFiles(context),
        dockerfile: dockerfile.path,
        tag,
        // RUN steps join the namespace's network (the build pod's sandbox made it), as the fetch
        // did: the isolation rules of the namespace's pods apply to them too.
        network,
        labels: { 'lattice.dev/build-pod': source.pod, 'org.opencontainers.image.revision': commit, 'org.opencontainers.image.source': request.url },
        resources: source.resources,
        cgroupParent,
      },
      log,
      signal,
    );
    log.line(`pushing ${tag}`);
    const digest = await pushImage(docker, tag, log, signal);
    // A failure to tidy up is not the build's: the image is pushed.
    await pruneImages(docker, request.repository).then(
      (removed) => removed.length > 0 && this.options.logger.info({ build: source.pod, repository: request.repository, removed: removed.length }, 'removed older build images'),
      (err: unknown) => this.options.logger.warn({ build: source.pod, err }, 'could not remove older build images'),
    );
    return `${request.repository}@${digest}`;
  }
}

/** What prepare() keeps of a build pod. */
interface BuildSource {
  uid: string;
  /** The build pod's container's name (the log printer, whose cgroup the RUN steps join). */
  container: string;
  namespace: string;
  /** namespace/name, for logs and labels. */
  pod: string;
  request: Pod['containers'][number]['env'];
  credentials: GitCredentials | undefined;
  resources: Pod['containers'][number]['resources'];
  logDir: string;
}

const seconds = (since: number) => Math.round((Date.now() - since) / 1000);

/**
 * A build pushes only to its own namespace's repositories (<registry>/builds/<namespace>/<name>),
 * whoever made the pod: never over another namespace's images, nor Lattice's base images.
 */
export function checkRepository(repository: string, namespace: string): void {
  const parts = repository.split('/');
  const path = parts.slice(-3).join('/');
  if (parts.length < 4 || buildNamespaceOf(path) !== namespace || /[:@]/.test(parts.at(-1)!)) {
    throw new BuildConfigError(`a build in namespace ${namespace} may push only to <registry>/builds/${namespace}/<name>, not ${repository}`);
  }
}

/**
 * The context directory, resolved: it must stay inside the checkout even through a symlink the
 * repository holds (a link to / would otherwise send the provider's files to the registry).
 */
export async function contextIn(checkout: string, contextDir: string | undefined): Promise<string> {
  const root = await realpath(checkout);
  let context: string;
  try {
    context = await realpath(path.join(root, contextDir ?? ''));
    if (!(await stat(context)).isDirectory()) throw new Error('not a directory');
  } catch {
    throw new BuildConfigError(`the context directory "${contextDir}" is not a directory of the repository at this ref`);
  }
  if (context !== root && !context.startsWith(`${root}${path.sep}`)) {
    throw new BuildConfigError(`the context directory "${contextDir}" leads outside the repository`);
  }
  return context;
}
