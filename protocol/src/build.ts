// Builds from Git: the contract between the operator (which makes a build a Kubernetes Job) and
// the agent (which recognises the Job's pod and runs the build with the provider's Docker engine).
//
// A build pod has one container whose image is BUILDER_IMAGE, a name no registry serves: the agent
// never pulls it. What to build travels as the container's env (so it is visible in the Job, and
// the gateway sends it as it sends any env); the Git credentials as a Secret volume named
// CREDENTIALS_VOLUME, which the agent reads from the pod message and mounts into no container.
// The outcome comes back as the container's termination message (BuildResult, JSON), the way
// Kubernetes passes a container's result.
import { z } from 'zod';

export const BUILDER_IMAGE = 'lattice.dev/builder';
export const CREDENTIALS_VOLUME = 'git-credentials';

/** The build container's env, by field of BuildRequest. */
export const BUILD_ENV = {
  url: 'LATTICE_BUILD_GIT_URL',
  ref: 'LATTICE_BUILD_GIT_REF',
  contextDir: 'LATTICE_BUILD_CONTEXT_DIR',
  strategy: 'LATTICE_BUILD_STRATEGY',
  installCommand: 'LATTICE_BUILD_INSTALL_COMMAND',
  buildCommand: 'LATTICE_BUILD_BUILD_COMMAND',
  startCommand: 'LATTICE_BUILD_START_COMMAND',
  dockerfile: 'LATTICE_BUILD_DOCKERFILE',
  port: 'LATTICE_BUILD_PORT',
  repository: 'LATTICE_BUILD_REPOSITORY',
  baseImages: 'LATTICE_BUILD_BASE_IMAGES',
} as const;

const optionalText = z
  .string()
  .max(4096)
  .optional()
  .transform((v) => v || undefined);

/** A path inside the repository: relative, no `..` (the agent must never read outside its checkout). */
const insidePath = optionalText.refine((p) => p === undefined || (!p.startsWith('/') && !p.split('/').includes('..')), {
  message: 'must be a relative path inside the repository, without ..',
});

export const BuildRequestSchema = z.object({
  url: z.string().min(1).max(2048),
  ref: z.string().min(1).max(255),
  contextDir: insidePath,
  strategy: z.enum(['node', 'python', 'static', 'dockerfile']),
  installCommand: optionalText,
  buildCommand: optionalText,
  startCommand: optionalText,
  dockerfile: insidePath,
  /** The port the app listens on (the first of spec.ports); the static server's port. */
  port: z.coerce.number().int().min(1).max(65535).default(8080),
  /** Where the image is pushed, <registry>/builds/<namespace of the build pod>/<workload> (no tag). */
  repository: z.string().min(1).max(512),
  /** Registry prefix of Lattice's base images, e.g. 127.0.0.1:5001/lattice. */
  baseImages: z.string().min(1).max(512),
});
export type BuildRequest = z.infer<typeof BuildRequestSchema>;

/**
 * Whose builds a repository of the cluster registry (its path, without the registry) holds: the
 * namespace of `builds/<namespace>/<name>`; undefined for any other repository.
 */
export function buildNamespaceOf(repository: string): string | undefined {
  return /^builds\/([^/]+)\/[^/]+$/.exec(repository)?.[1];
}

/** The build request from a container's env (name/value pairs). */
export function buildRequestFromEnv(env: readonly { name: string; value: string }[]): BuildRequest {
  const values = new Map(env.map((e) => [e.name, e.value]));
  const raw = Object.fromEntries(Object.entries(BUILD_ENV).map(([field, name]) => [field, values.get(name)]));
  return BuildRequestSchema.parse(raw);
}

export const BuildResultSchema = z.object({
  /** The commit SHA the ref resolved to (absent when the clone failed). */
  commit: z.string().max(64).optional(),
  /** The pushed image by digest, repository@sha256:... (success only). */
  image: z.string().max(1024).optional(),
  durationSeconds: z.number().int().min(0),
  /** Why it failed: the error and the tail of the log. */
  error: z.string().max(8192).optional(),
});
export type BuildResult = z.infer<typeof BuildResultSchema>;
