// A build is a Kubernetes Job: the Job controller runs it once (no retry: a failed build is
// retried only when the spec or the ref changes, or a rebuild is asked for), kills it at the time
// limit, and keeps its pod for `kubectl logs`; the real kube-scheduler places its pod on a
// provider like any other, its CPU and memory reserved there. The pod's one container has the
// reserved image BUILDER_IMAGE that the agent recognises (see @lattice/protocol build.ts).
//
// The Job's name is a hash of everything the build depends on: the source, the build spec, the
// port, the target repository, and the rebuild request. The same inputs name the same Job, so
// nothing is rebuilt by a restart or a stale cache (an apply of an existing Job changes nothing),
// and any change makes a new Job.
import { createHash } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import type { Workload } from '@lattice/crds';
import { BUILD_ENV, BUILDER_IMAGE, CREDENTIALS_VOLUME, type BuildRequest } from '@lattice/protocol';
import { controllerReference } from '../kube/owners.js';
import { MANAGED_BY } from '../workload/labels.js';
import { PROVIDER_LABEL, providerAffinity, tolerations, type PodOptions } from '../workload/pod-template.js';
import { platformRepository } from '../platform-images.js';

/** On a build Job and its pod: the Workload it builds. Not lattice.dev/workload, which selects the replicas. */
export const BUILD_OF_LABEL = 'lattice.dev/build-of';
/** On a build Job and its pod: the hash of the build's inputs. */
export const BUILD_LABEL = 'lattice.dev/build';
/** On a Workload: a new value asks for a build of the ref's newest commit (`lattice build NAME`). */
export const REBUILD_ANNOTATION = 'lattice.dev/rebuild';
export const BUILD_CONTAINER = 'build';

export interface BuildOptions extends PodOptions {
  /**
   * The cluster's registry (--registry), e.g. registry.lattice-system.svc:5000: builds push there and
   * take Lattice's base images from it, always through the provider's gateway connection (registry relay).
   */
  buildRegistry: string;
  /** A build still running after this long is stopped and failed. */
  buildTimeoutSeconds: number;
  /** CPU and memory of a build (request and limit), e.g. 1 and 2Gi. */
  buildCpu: string;
  buildMemory: string;
}

// The Job controller copies the Job's name into a pod label: at most 63 characters.
const HASH_LENGTH = 10;
const SUFFIX = `-build-`.length + HASH_LENGTH;

/** What the build of a Workload is asked for: the container's env, before it is spelled as env. */
export function buildRequest(wl: Workload, options: BuildOptions): BuildRequest {
  const { source, build, ports } = wl.spec;
  if (!source || !build) throw new Error(`Workload ${wl.metadata.name} has no spec.source to build`);
  const port = (ports?.find((p) => p.protocol === 'HTTP') ?? ports?.[0])?.port ?? 8080;
  return {
    url: source.url,
    ref: source.ref,
    contextDir: source.contextDir,
    strategy: build.strategy,
    installCommand: build.installCommand,
    buildCommand: build.buildCommand,
    startCommand: build.startCommand,
    dockerfile: build.dockerfile,
    port,
    repository: `${options.buildRegistry}/builds/${wl.metadata.namespace}/${wl.metadata.name}`,
    baseImages: platformRepository(options.buildRegistry),
  };
}

/** The hash of a build's inputs (the request, the credentials' Secret, the rebuild request). */
export function buildHash(wl: Workload, options: BuildOptions): string {
  const inputs = {
    request: buildRequest(wl, options),
    credentials: wl.spec.source?.credentialsSecretRef?.name,
    rebuild: wl.metadata.annotations?.[REBUILD_ANNOTATION],
  };
  return createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, HASH_LENGTH);
}

export function buildJobName(workloadName: string, hash: string): string {
  return `${workloadName.slice(0, 63 - SUFFIX).replace(/-+$/, '')}-build-${hash}`;
}

function buildLabels(wl: Workload, hash: string): Record<string, string> {
  const name = wl.metadata.name!;
  return {
    'app.kubernetes.io/name': wl.metadata.labels?.['app.kubernetes.io/name'] ?? name,
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/component': 'build',
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/part-of': wl.metadata.labels?.['app.kubernetes.io/part-of'] ?? 'lattice',
    [BUILD_OF_LABEL]: name,
    [BUILD_LABEL]: hash,
  };
}

export function buildJob(wl: Workload, options: BuildOptions): k8s.V1Job {
  const hash = buildHash(wl, options);
  const request = buildRequest(wl, options);
  const labels = buildLabels(wl, hash);
  const resources = { cpu: options.buildCpu, memory: options.buildMemory };
  const secret = wl.spec.source?.credentialsSecretRef?.name;
  const env = Object.entries(BUILD_ENV).flatMap(([field, envName]) => {
    const value = request[field as keyof BuildRequest];
    return value === undefined ? [] : [{ name: envName, value: String(value) }];
  });
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: buildJobName(wl.metadata.name!, hash),
      namespace: wl.metadata.namespace,
      labels,
      annotations: { 'lattice.dev/source': `${request.url}#${request.ref}` },
      ownerReferences: [controllerReference(wl)],
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: options.buildTimeoutSeconds,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          containers: [
            {
              name: BUILD_CONTAINER,
              image: BUILDER_IMAGE,
              env,
              resources: { requests: resources, limits: resources },
              securityContext: { allowPrivilegeEscalation: false, privileged: false },
            },
          ],
          // The agent reads the Secret from the pod it is sent; no container mounts it.
          volumes: secret ? [{ name: CREDENTIALS_VOLUME, secret: { secretName: secret } }] : undefined,
          nodeSelector: { [PROVIDER_LABEL]: 'true' },
          affinity: providerAffinity(wl.spec.placement),
          tolerations: tolerations(options),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 5,
        },
      },
    },
  };
}
