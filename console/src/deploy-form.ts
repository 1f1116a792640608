// The deploy form: which kind of thing to deploy, the values typed for it, and the Lattice object
// they describe. The object's spec is checked with the very zod schemas the CRDs are generated
// from, so the browser refuses exactly what the apiserver would, on the field.
import { CronWorkloadSpec, KINDS, nameError, ObjectName, PostgresInstanceSpec, WorkloadSpec } from '@lattice/crds';
import type { z } from 'zod';
import type { DeployImages } from './deploy-images.js';
import type { Plural } from './lattice-object.js';

export type DeployType = 'image' | 'postgres' | 'redis' | 'minio' | 'node' | 'python' | 'static' | 'cron';

interface TypeBasics {
  label: string;
  plural: Plural;
  /** Which inputs the type uses. */
  fields: ReadonlySet<Input>;
  defaults?: Partial<DeployValues>;
}

/**
 * What the type deploys, in words. A type with a default image (one of the console's configured
 * DeployImages) pre-fills the image field with it and names it here.
 */
type TypeDescription = { image?: undefined; description: string } | { image: keyof DeployImages; description: (image: string) => string };

type DeployTypeInfo = TypeBasics & TypeDescription;

type Input =
  | 'image'
  | 'git'
  | 'startCommand'
  | 'buildCommand'
  | 'port'
  | 'public'
  | 'replicas'
  | 'env'
  | 'storage'
  | 'database'
  | 'minioUser'
  | 'schedule'
  | 'command'
  | 'providers';

const set = (...inputs: Input[]) => new Set(inputs);
const WEB_APP = ['port', 'public', 'replicas', 'env', 'providers'] as const;
const GIT_APP = set('git', 'buildCommand', 'startCommand', ...WEB_APP);

export const DEPLOY_TYPES: Record<DeployType, DeployTypeInfo> = {
  image: { label: 'Container image', description: 'Run any container image.', plural: 'workloads', fields: set('image', 'command', ...WEB_APP) },
  postgres: {
    label: 'PostgreSQL',
    description: 'A managed PostgreSQL 15 server with one database, its data on a provider volume. Lattice generates the password.',
    plural: 'postgresinstances',
    fields: set('database', 'storage'),
    defaults: { cpu: '500m', memory: '512Mi', storage: '1Gi' },
  },
  redis: {
    label: 'Redis',
    image: 'redis',
    description: (image) => `Redis from the image ${image} (a provider must be able to pull it), on port 6379 with its data on a provider volume.`,
    plural: 'workloads',
    fields: set('image', 'storage', 'providers'),
    defaults: { storage: '1Gi', memory: '256Mi' },
  },
  minio: {
    label: 'MinIO',
    image: 'minio',
    description: (image) => `MinIO object storage from the image ${image} (a provider must be able to pull it): the S3 API on port 9000, its console on 9001.`,
    plural: 'workloads',
    fields: set('image', 'storage', 'minioUser', 'providers'),
    defaults: { storage: '5Gi', memory: '512Mi' },
  },
  node: {
    label: 'Node.js (Git)',
    description: 'Lattice builds a Node.js app from its Git repository (package.json) and runs it.',
    plural: 'workloads',
    fields: GIT_APP,
    defaults: { port: '3000' },
  },
  python: {
    label: 'Python (Git)',
    description: 'Lattice builds a Python app from its Git repository (requirements.txt or pyproject.toml) and runs it.',
    plural: 'workloads',
    fields: GIT_APP,
    defaults: { port: '8000' },
  },
  static: {
    label: 'Static site (Git)',
    description: 'Lattice builds the site from its Git repository and serves the files as a website.',
    plural: 'workloads',
    fields: set('git', 'buildCommand', ...WEB_APP),
    defaults: { port: '8080' },
  },
  cron: {
    label: 'Cron job',
    image: 'cron',
    description: (image) => `Run a container (by default from the image ${image}) to completion on a schedule, such as a nightly backup.`,
    plural: 'cronworkloads',
    fields: set('image', 'schedule', 'command', 'env'),
    defaults: { cpu: '100m', memory: '64Mi' },
  },
};

interface EnvRow {
  name: string;
  value: string;
}

export interface DeployValues {
  type: DeployType;
  name: string;
  image: string;
  gitUrl: string;
  gitRef: string;
  contextDir: string;
  buildCommand: string;
  startCommand: string;
  port: string;
  public: boolean;
  replicas: string;
  cpu: string;
  memory: string;
  env: EnvRow[];
  storage: string;
  database: string;
  minioUser: string;
  minioPassword: string;
  schedule: string;
  timeZone: string;
  command: string;
  providers: string;
}

const BASE: DeployValues = {
  type: 'image',
  name: '',
  image: '',
  gitUrl: '',
  gitRef: 'main',
  contextDir: '',
  buildCommand: '',
  startCommand: '',
  port: '',
  public: false,
  replicas: '1',
  cpu: '250m',
  memory: '256Mi',
  env: [],
  storage: '1Gi',
  database: '',
  minioUser: 'admin',
  minioPassword: '',
  schedule: '0 3 * * *',
  timeZone: 'UTC',
  command: '',
  providers: '',
};

export const initialValues: DeployValues = BASE;

/** The type's description, naming its default image if it has one. */
export function typeDescription(type: DeployType, images: DeployImages): string {
  const info = DEPLOY_TYPES[type];
  return info.image === undefined ? info.description : info.description(images[info.image]);
}

/** The form's values for a newly chosen type: its defaults, keeping the name (and env) typed so far. */
export function valuesFor(type: DeployType, current: DeployValues, images: DeployImages): DeployValues {
  const { defaults, image } = DEPLOY_TYPES[type];
  return { ...BASE, ...defaults, ...(image !== undefined && { image: images[image] }), type, name: current.name, env: current.env };
}

/** Field errors keyed by the input they belong to (`image`, `env.0.name`, …). */
export type FieldErrors = Record<string, string>;

/** A whole number from a text input; anything else becomes NaN, which the schema refuses. */
const integer = (text: string) => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : Number.NaN);
const optional = (text: string) => (text.trim() === '' ? undefined : text.trim());
const resources = (v: DeployValues) => ({ cpu: v.cpu.trim(), memory: v.memory.trim() });
const env = (v: DeployValues) => (v.env.length > 0 ? { env: v.env.map((row) => ({ name: row.name, value: row.value })) } : {});
const dataVolume = (v: DeployValues, mountPath: string) => [{ name: 'data', mountPath, size: v.storage.trim() }];

const LABEL_PAIR = /^\s*([^=\s]+)\s*=\s*([^=\s]*)\s*$/;

/** `key=value, key=value` as spec.placement.providerSelector; a malformed pair makes the field invalid. */
function providerSelector(text: string): Record<string, string> | undefined {
  if (text.trim() === '') return {};
  const pairs = text.split(',').map((pair) => LABEL_PAIR.exec(pair));
  if (pairs.some((m) => m === null)) return undefined;
  return Object.fromEntries(pairs.map((m) => [m![1]!, m![2]!]));
}

/** The command box, run by sh -c; empty keeps the image's own command. */
const shell = (v: DeployValues) => (optional(v.command) ? { command: ['sh', '-c', v.command] } : {});

function placement(v: DeployValues) {
  const selector = providerSelector(v.providers) ?? {};
  return Object.keys(selector).length > 0 ? { placement: { providerSelector: selector } } : {};
}

function webPorts(v: DeployValues, required: boolean) {
  if (!required && v.port.trim() === '') return {};
  return { ports: [{ name: 'http', port: integer(v.port), ...(v.public && { expose: 'public' as const }) }] };
}

/** The object the form describes: only what the user set, so the CRD's defaults do the rest. */
export function toRequest(v: DeployValues): { plural: Plural; spec: Record<string, unknown> } {
  const plural = DEPLOY_TYPES[v.type].plural;
  switch (v.type) {
    case 'image':
      return {
        plural,
        spec: { image: v.image.trim(), ...shell(v), replicas: integer(v.replicas), resources: resources(v), ...webPorts(v, false), ...env(v), ...placement(v) },
      };
    case 'node':
    case 'python':
    case 'static':
      return {
        plural,
        spec: {
          source: { url: v.gitUrl.trim(), ref: v.gitRef.trim(), ...(optional(v.contextDir) && { contextDir: optional(v.contextDir) }) },
          build: {
            strategy: v.type,
            ...(optional(v.buildCommand) && { buildCommand: optional(v.buildCommand) }),
            ...(v.type !== 'static' && optional(v.startCommand) && { startCommand: optional(v.startCommand) }),
          },
          replicas: integer(v.replicas),
          resources: resources(v),
          ...webPorts(v, true),
          ...env(v),
          ...placement(v),
        },
      };
    case 'redis':
      return {
        plural,
        spec: {
          image: v.image.trim(),
          // Without a password, protected mode answers only loopback: off, as the official image's
          // entrypoint does, since its clients are the namespace's other pods.
          args: ['redis-server', '--protected-mode', 'no', '--appendonly', 'yes', '--dir', '/data'],
          ports: [{ name: 'redis', port: 6379, protocol: 'TCP' }],
          volumes: dataVolume(v, '/data'),
          resources: resources(v),
          ...placement(v),
        },
      };
    case 'minio':
      return {
        plural,
        spec: {
          image: v.image.trim(),
          args: ['server', '/data', '--console-address', ':9001'],
          ports: [
            { name: 'api', port: 9000 },
            { name: 'console', port: 9001 },
          ],
          env: [
            { name: 'MINIO_ROOT_USER', value: v.minioUser },
            { name: 'MINIO_ROOT_PASSWORD', value: v.minioPassword },
          ],
          volumes: dataVolume(v, '/data'),
          resources: resources(v),
          ...placement(v),
        },
      };
    case 'postgres':
      return {
        plural,
        spec: { database: v.database.trim(), owner: v.database.trim(), storage: { size: v.storage.trim() }, resources: resources(v) },
      };
    case 'cron':
      return {
        plural,
        spec: {
          schedule: v.schedule.trim(),
          timeZone: v.timeZone.trim(),
          template: {
            image: v.image.trim(),
            ...shell(v),
            resources: resources(v),
            ...env(v),
          },
        },
      };
  }
}

const SCHEMAS: Record<Plural, z.ZodType> = { workloads: WorkloadSpec, postgresinstances: PostgresInstanceSpec, cronworkloads: CronWorkloadSpec };

/** Spec paths (with any `template.` taken off) shown on an input other than their own path. */
const FIELD_OF: Record<string, string> = {
  'ports.0.port': 'port',
  'resources.cpu': 'cpu',
  'resources.memory': 'memory',
  'source.url': 'gitUrl',
  'source.ref': 'gitRef',
  'source.contextDir': 'contextDir',
  'build.buildCommand': 'buildCommand',
  'build.startCommand': 'startCommand',
  'storage.size': 'storage',
  'volumes.0.size': 'storage',
  'env.0.value': 'minioUser',
  'env.1.value': 'minioPassword',
  owner: 'database',
};

function fieldOf(type: DeployType, path: string): string {
  const bare = path.replace(/^template\./, '');
  if (bare.startsWith('command')) return 'command';
  if (bare.startsWith('env.') && type !== 'minio') return bare;
  return FIELD_OF[bare] ?? (bare === '' ? 'form' : bare);
}

export function validate(values: DeployValues): { plural: Plural; spec: Record<string, unknown>; errors: FieldErrors } {
  const { plural, spec } = toRequest(values);
  const errors: FieldErrors = {};
  const name = values.name.trim();
  if (!ObjectName.safeParse(name).success) {
    errors.name = 'must be lower-case letters, digits, dashes and dots, starting and ending with a letter or digit';
  } else {
    // The rules the apiserver applies to this kind's names (its children are named after it).
    const problem = nameError(KINDS.find((k) => k.plural === plural)!.nameRules, { metadata: { name }, spec } as never);
    if (problem) errors.name = problem;
  }
  if (providerSelector(values.providers) === undefined) errors.providers = 'must be label=value pairs separated by commas, e.g. region=eu, gpu=true';
  if (values.type === 'minio' && values.minioPassword.length < 8) errors.minioPassword = 'must be at least 8 characters (MinIO refuses shorter ones)';
  const result = SCHEMAS[plural].safeParse(spec);
  for (const issue of result.success ? [] : result.error.issues) {
    errors[fieldOf(values.type, issue.path.map(String).join('.'))] ??= issue.message;
  }
  return { plural, spec, errors };
}
