// Workload: an application, from an image or built from Git, run as replicas on provider nodes.
import { z } from 'zod';
import { Conditions, Env, Expose, ImagePullSecrets, ImageReference, ObjectName, ObservedGeneration, Resources, ShortName, Timestamp, positiveQuantity } from './common.js';
import { keyedList, withRules } from './extensions.js';
import { MAX_LABEL_LENGTH, MAX_STATEFULSET_NAME_LENGTH, NAME_RULE, dnsLabelName, type NameRule } from './names.js';
import { ageColumn, objectSchema, readyColumn, type KindDefinition } from './kind.js';

const GIT_URL = /^(https:\/\/|ssh:\/\/|[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:)[^\s]+$/;

export const GitSource = z
  .strictObject({
    url: withRules(z.string().max(2048), {
      rule: `self.matches(r'${GIT_URL.source}')`,
      message: 'must be an https:// or ssh:// Git URL, or git@host:path',
      check: (url) => GIT_URL.test(url),
    }).describe('Git repository to build, e.g. https://github.com/org/app.git or git@github.com:org/app.git.'),
    ref: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^\s~^:?*[\\]+$/)
      .default('main')
      .describe('Branch, tag or commit to build. A branch is followed: new commits are built and rolled out.'),
    contextDir: withRules(
      z
        .string()
        .max(1024)
        .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/),
      {
        rule: `!self.split('/').exists(part, part == '..')`,
        message: 'must stay inside the repository (no ..)',
        check: (dir) => !dir.split('/').includes('..'),
      },
    )
      .optional()
      .describe('Directory within the repository to build from, e.g. services/api. Defaults to the root.'),
    credentialsSecretRef: z
      .strictObject({ name: ObjectName.describe('Name of the Secret, in the same namespace.') })
      .optional()
      .describe(
        'Secret for a private repository: type kubernetes.io/basic-auth (username, and an access token as password) for https URLs, or kubernetes.io/ssh-auth (ssh-privatekey, and known_hosts to pin the server\'s host key; without it the key is accepted on first use and its fingerprint logged) for ssh URLs.',
      ),
  })
  .describe('Git repository Lattice builds the image from. Exactly one of image or source.');

const ShellCommand = z.string().min(1).max(4096);

export const BuildStrategy = z
  .enum(['node', 'python', 'static', 'dockerfile'])
  .describe(
    'How to build: node (package.json), python (requirements.txt or pyproject.toml), static (serve the files as a website) or dockerfile (the Dockerfile in contextDir).',
  );

export const Build = withRules(
  z
    .strictObject({
      strategy: BuildStrategy,
      installCommand: ShellCommand.optional().describe('Replaces the install step, e.g. "npm ci" or "pip install -r requirements.txt".'),
      buildCommand: ShellCommand.optional().describe('Replaces the build step, e.g. "npm run build".'),
      startCommand: ShellCommand.optional().describe('Replaces the command the built image starts with, e.g. "npm start".'),
      dockerfile: z
        .string()
        .min(1)
        .max(1024)
        .optional()
        .describe('Path of the Dockerfile relative to contextDir, for strategy dockerfile. Defaults to Dockerfile.'),
    })
    .describe('How to turn source into an image. Required with source.'),
  {
    rule: `!has(self.dockerfile) || self.strategy == 'dockerfile'`,
    message: 'dockerfile is only used with strategy dockerfile',
    fieldPath: '.dockerfile',
    check: (build) => build.dockerfile === undefined || build.strategy === 'dockerfile',
  },
);

export const Port = z
  .strictObject({
    name: ShortName.describe('Name of the port, unique within the Workload; health checks and status.endpoints refer to it.'),
    port: z.int().min(1).max(65535).describe('Port the container listens on.'),
    protocol: z
      .enum(['HTTP', 'TCP'])
      .default('HTTP')
      .describe('HTTP (exposed as an https:// URL when public) or TCP (raw connections).'),
    expose: Expose.default('none'),
  })
  .describe('Each port has a name and a number, and says who can reach it.');

export const Ports = withRules(keyedList(Port, 'name', 32), {
  rule: 'self.all(p, self.exists_one(q, q.port == p.port))',
  message: 'each port number must be unique',
  check: (ports) => new Set(ports.map((p) => p.port)).size === ports.length,
}).describe('Ports the container listens on, merged by name.');

export const Volume = z
  .strictObject({
    name: ShortName.describe('Name of the volume, unique within the Workload.'),
    mountPath: z
      .string()
      .max(1024)
      .regex(/^\/[^\s]*$/)
      .describe('Absolute path the volume is mounted at in the container, e.g. /data.'),
    size: positiveQuantity('1Gi or 500Mi').describe('Capacity of the volume.'),
  })
  .describe(
    'Persistent storage on the provider node that runs the replica; each replica gets its own, and keeps it across restarts.',
  );

export const Volumes = withRules(keyedList(Volume, 'name', 16), {
  rule: 'self.all(v, self.exists_one(w, w.mountPath == v.mountPath))',
  message: 'each mountPath must be unique',
  check: (volumes) => new Set(volumes.map((v) => v.mountPath)).size === volumes.length,
}).describe('Persistent volumes, merged by name.');

/** A port by number, or by the name of one of spec.ports. */
const PortReference = z
  .union([z.int().min(1).max(65535), ShortName])
  .describe('Port number, or the name of one of spec.ports.');

export const HealthCheck = withRules(
  z
    .strictObject({
      http: z
        .strictObject({
          path: z.string().max(1024).regex(/^\//).default('/').describe('Path to GET; any status from 200 to 399 is healthy.'),
          port: PortReference,
        })
        .optional()
        .describe('Probe with an HTTP GET.'),
      tcp: z.strictObject({ port: PortReference }).optional().describe('Probe by opening a TCP connection.'),
      exec: z
        .strictObject({
          command: z.array(z.string().max(4096)).min(1).max(64).describe('Command and arguments; exit status 0 is healthy.'),
        })
        .optional()
        .describe('Probe by running a command in the container.'),
      initialDelaySeconds: z.int().min(0).max(3600).default(0).describe('Seconds after start before the first probe.'),
      periodSeconds: z.int().min(1).max(3600).default(10).describe('Seconds between probes.'),
      failureThreshold: z
        .int()
        .min(1)
        .max(100)
        .default(3)
        .describe('Consecutive failures after which the replica counts as not ready and is restarted.'),
    })
    .describe('How Lattice tells that a replica works: exactly one of http, tcp or exec.'),
  {
    rule: '[has(self.http), has(self.tcp), has(self.exec)].exists_one(probe, probe)',
    message: 'set exactly one of http, tcp or exec',
    check: (h) => [h.http, h.tcp, h.exec].filter((probe) => probe !== undefined).length === 1,
  },
);

export const Placement = z
  .strictObject({
    providerSelector: z
      .record(z.string(), z.string())
      .optional()
      .describe('Run only on provider nodes that have all these labels, e.g. {"topology.kubernetes.io/region": "eu"}.'),
    spreadAcrossProviders: z
      .boolean()
      .default(false)
      .describe('Put the replicas on different providers where possible, so that one machine going away leaves the others.'),
  })
  .describe('Where the replicas may run.');

export const Tailnet = z
  .strictObject({
    authKeySecretRef: z
      .strictObject({ name: ObjectName.describe('Name of the Secret, in the same namespace.') })
      .describe(
        'Secret with two keys: loginServer (the coordination server URL, e.g. https://controlplane.tailscale.com or your headscale) and authKey (a reusable, pre-approved auth key). Each replica joins the tailnet as a device named after its pod.',
      ),
  })
  .describe('How the replicas join your tailnet, for ports with expose: tailnet.');

type Probe = 'http' | 'tcp';
const namedPortRule = (probe: Probe) => ({
  rule:
    `!has(self.healthCheck) || !has(self.healthCheck.${probe}) || type(self.healthCheck.${probe}.port) == int || ` +
    `(has(self.ports) && self.ports.exists(p, p.name == self.healthCheck.${probe}.port))`,
  message: `a port name in healthCheck.${probe}.port must be the name of one of spec.ports`,
  fieldPath: `.healthCheck.${probe}.port`,
  check: (spec: { healthCheck?: z.output<typeof HealthCheck>; ports?: z.output<typeof Ports> }) => {
    const port = spec.healthCheck?.[probe]?.port;
    return typeof port !== 'string' || (spec.ports ?? []).some((p) => p.name === port);
  },
});

export const WorkloadSpec = withRules(
  z
    .strictObject({
      image: ImageReference.optional()
        .describe('Container image to run, e.g. busybox:1.36 or registry.example.com/team/app:1.4. Exactly one of image or source.'),
      imagePullSecrets: ImagePullSecrets.optional(),
      source: GitSource.optional(),
      build: Build.optional(),
      command: z
        .array(z.string().max(4096))
        .max(64)
        .optional()
        .describe("Replaces the image's entrypoint."),
      args: z.array(z.string().max(4096)).max(256).optional().describe("Replaces the image's default arguments (its CMD)."),
      env: Env.optional(),
      replicas: z.int().min(0).max(100).default(1).describe('Number of copies to run; 0 stops it but keeps its volumes.'),
      ports: Ports.optional(),
      resources: Resources.prefault({}),
      volumes: Volumes.optional(),
      healthCheck: HealthCheck.optional(),
      placement: Placement.optional(),
      tailnet: Tailnet.optional(),
      suspend: z.boolean().default(false).describe('Stop every replica (keeping volumes) until set back to false.'),
    })
    .describe('What to run and how.'),
  {
    rule: 'has(self.image) != has(self.source)',
    message: 'set exactly one of spec.image (an image to run) or spec.source (a Git repository to build)',
    check: (spec) => (spec.image === undefined) !== (spec.source === undefined),
  },
  {
    rule: 'has(self.build) == has(self.source)',
    message: 'spec.build is required with spec.source, and only allowed with it',
    fieldPath: '.build',
    check: (spec) => (spec.build === undefined) === (spec.source === undefined),
  },
  namedPortRule('http'),
  namedPortRule('tcp'),
  {
    rule: `has(self.tailnet) || !has(self.ports) || !self.ports.exists(p, p.expose == 'tailnet')`,
    message: 'a port with expose: tailnet needs spec.tailnet.authKeySecretRef: the Secret with your tailnet\'s loginServer and authKey',
    fieldPath: '.tailnet',
    check: (spec) => spec.tailnet !== undefined || !(spec.ports ?? []).some((p) => p.expose === 'tailnet'),
  },
);

export const WorkloadPhase = z
  .enum(['Pending', 'Building', 'Deploying', 'Running', 'Stopped', 'Failed'])
  .describe('Summary of the lifecycle; the conditions have the details.');

export const BuildStatus = z
  .object({
    commit: z.string().optional().describe('Commit that was built.'),
    image: z.string().optional().describe('Image the build produced.'),
    startedAt: Timestamp.optional().describe('When the build started.'),
    completedAt: Timestamp.optional().describe('When the build finished.'),
    durationSeconds: z.int().min(0).optional().describe('How long the build took.'),
    message: z.string().optional().describe('Outcome, or why the build failed.'),
    job: z.string().optional().describe('The build Job; its log: kubectl logs job/<job>.'),
  })
  .describe('The latest build, for Workloads built from source.');

export const Endpoint = z
  .object({
    port: z.string().describe('Name of the port in spec.ports.'),
    url: z.string().describe('Where the port is reachable, e.g. https://web-app.example.net or tcp://100.64.0.3:6379.'),
  })
  .describe('Where one exposed port is reachable.');

export const WorkloadStatus = z
  .object({
    conditions: Conditions.optional(),
    observedGeneration: ObservedGeneration.optional(),
    phase: WorkloadPhase.optional(),
    replicas: z.int().min(0).optional().describe('Replicas that exist now.'),
    readyReplicas: z.int().min(0).optional().describe('Replicas that pass their health check.'),
    endpoints: keyedList(Endpoint, 'port', 32).optional().describe('Where each exposed port is reachable.'),
    url: z.string().optional().describe('The first public URL, if any port is public.'),
    nodes: z
      .array(z.string())
      .optional()
      .meta({ 'x-kubernetes-list-type': 'set' })
      .describe('Provider nodes the replicas run on.'),
    build: BuildStatus.optional(),
  })
  .describe('What Lattice observed, written by the operator.');

export const Workload = objectSchema('Workload', WorkloadSpec, WorkloadStatus);

/** The Service is named after the Workload. */
const serviceName = dnsLabelName<Workload>(
  MAX_LABEL_LENGTH,
  `a Workload's name must be a DNS label of at most ${MAX_LABEL_LENGTH} characters (lowercase letters, digits and '-', starting with a letter and ending with a letter or digit, no dots): it names the Workload's Service`,
);

/**
 * With volumes the replicas are a StatefulSet's pods. Checked on create and when volumes are
 * added: a Workload stored with volumes before the rule existed stays writable.
 */
const statefulSetName: NameRule<Workload> = {
  rule:
    `size(self.metadata.name) <= ${MAX_STATEFULSET_NAME_LENGTH} || !has(self.spec.volumes) || size(self.spec.volumes) == 0 || ` +
    '(oldSelf.hasValue() && has(oldSelf.value().spec.volumes) && size(oldSelf.value().spec.volumes) > 0)',
  ...NAME_RULE,
  message: `a Workload with spec.volumes must have a name of at most ${MAX_STATEFULSET_NAME_LENGTH} characters: its replicas are a StatefulSet's pods, which carry the name and 11 more characters in a label (at most ${MAX_LABEL_LENGTH})`,
  check: (wl) => (wl.metadata.name ?? '').length <= MAX_STATEFULSET_NAME_LENGTH || !wl.spec.volumes?.length,
};

/**
 * A public HTTP port is reached at https://<name>--<namespace>.<domain>: the first '--' splits the
 * host name, so one in the Workload's name would let two Workloads share a URL. The apiserver
 * checks it on create (a rule reading the stored object's ports costs more than CEL allows); the
 * controller on every write, so a public HTTP port added later is refused there.
 */
const publicUrlName: NameRule<Workload> = {
  rule: "oldSelf.hasValue() || !self.metadata.name.contains('--') || !has(self.spec.ports) || !self.spec.ports.exists(p, p.expose == 'public' && p.protocol == 'HTTP')",
  ...NAME_RULE,
  message: "a Workload with a public HTTP port must not have '--' in its name: its URL is https://<name>--<namespace>.<domain>, where the first '--' ends the name",
  check: (wl) => !(wl.metadata.name ?? '').includes('--') || !wl.spec.ports?.some((p) => p.expose === 'public' && p.protocol === 'HTTP'),
};

export const WORKLOAD_NAME_RULES = [serviceName, statefulSetName, publicUrlName] as const;

export const workloadKind: KindDefinition = {
  kind: 'Workload',
  plural: 'workloads',
  singular: 'workload',
  shortNames: ['wl'],
  description:
    'An application Lattice runs on provider machines: a container image, or a Git repository it builds, with its replicas, ports, volumes and health check.',
  spec: WorkloadSpec,
  status: WorkloadStatus,
  printerColumns: [
    readyColumn,
    { name: 'Replicas', type: 'integer', jsonPath: '.status.replicas', description: 'Replicas that exist now.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Summary of the lifecycle.' },
    { name: 'URL', type: 'string', jsonPath: '.status.url', description: 'The first public URL.' },
    ageColumn,
  ],
  nameRules: WORKLOAD_NAME_RULES,
};

export type GitSource = z.infer<typeof GitSource>;
export type Build = z.infer<typeof Build>;
export type Port = z.infer<typeof Port>;
export type Volume = z.infer<typeof Volume>;
export type HealthCheck = z.infer<typeof HealthCheck>;
export type Placement = z.infer<typeof Placement>;
export type Tailnet = z.infer<typeof Tailnet>;
export type WorkloadSpec = z.infer<typeof WorkloadSpec>;
export type WorkloadPhase = z.infer<typeof WorkloadPhase>;
export type BuildStatus = z.infer<typeof BuildStatus>;
export type WorkloadStatus = z.infer<typeof WorkloadStatus>;
export type Workload = z.infer<typeof Workload>;
