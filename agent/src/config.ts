// The agent's configuration: a YAML (or JSON) file, overridable by flags, validated with zod so a
// mistake is reported with the field at fault instead of surfacing later as odd behaviour.
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseQuantity } from '@lattice/crds';
import { AvailabilitySchema, type Offer } from '@lattice/protocol';

/** The quantities a provider's offer accepts: a plain subset of Kubernetes' syntax. */
const QUANTITY = /^(\d+(\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/;

const quantityString = (what: string) =>
  z
    .union([z.string(), z.number()])
    .transform((v) => String(v))
    .refine((v) => QUANTITY.test(v), { message: `${what} must be a quantity such as 2, 500m (CPU) or 4Gi (memory)` });

export const AgentConfigSchema = z
  .object({
    /** Where the gateway listens, host:port. Set by `join`. */
    gateway: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'gateway must be HOST:PORT').optional(),
    /** The provider's offer: what it lends the cluster, never more than the machine has. */
    cpu: quantityString('cpu').default('1'),
    memory: quantityString('memory').default('1Gi'),
    /** What pods may write to this machine's disk: their containers' writable layers, all together. */
    disk: quantityString('disk').default('10Gi'),
    maxPods: z.number().int().min(1).max(250).default(20),
    labels: z.record(z.string(), z.string()).default({}),
    availability: AvailabilitySchema.optional(),
    /**
     * The agent's own images, when they must differ from those the gateway names (it does when
     * the agent connects): each pod's network sandbox, the isolation helper's (iptables, see
     * runtime/isolation.ts), the confined git fetch's (see runtime/build/git.ts).
     */
    sandboxImage: z.string().min(1).optional(),
    isolationImage: z.string().min(1).optional(),
    gitImage: z.string().min(1).optional(),
    /**
     * The loopback port this machine's Docker engine reaches the cluster's image registry on,
     * relayed by the agent through the gateway (see registry/relay.ts); another is picked when taken.
     */
    registryRelayPort: z.number().int().min(0).max(65535).default(15001),
    /** The executable that puts a pod's `expose: tailnet` ports on its tailnet (a path, or looked up on PATH). */
    tailnetBinary: z.string().min(1).default('lattice-tailnet'),
    /** The engine's socket: as the docker CLI finds it (DOCKER_HOST=unix://...), else the usual one. */
    dockerSocket: z.string().default(() => defaultDockerSocket(process.env)),
    /** The agent's local admin API (health, metrics, status) for the desktop app. Loopback only. */
    adminPort: z.number().int().min(0).max(65535).default(0),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  })
  .strict();

export type AgentConfig = z.infer<typeof AgentConfigSchema>;

export function defaultDockerSocket(env: NodeJS.ProcessEnv): string {
  const host = env.DOCKER_HOST;
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock';
}

export const defaultStateDir = () => path.join(os.homedir(), '.lattice-agent');

export function formatIssues(error: z.ZodError, source: string): string {
  return `${source} is invalid:\n` + error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
}

/** Reads and validates the config file (absent file = defaults), then applies overrides. */
export async function loadConfig(file: string, overrides: Record<string, unknown> = {}): Promise<AgentConfig> {
  let fromFile: unknown = {};
  try {
    const text = await readFile(file, 'utf8');
    fromFile = parseYaml(text) ?? {};
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const parsed = AgentConfigSchema.safeParse({ ...(fromFile as object), ...defined });
  if (!parsed.success) throw new Error(formatIssues(parsed.error, file));
  const config = parsed.data;
  const cores = os.cpus().length;
  if (parseQuantity(config.cpu) > cores) throw new Error(`${file} is invalid:\n  - cpu: ${config.cpu} is more than this machine's ${cores} CPUs`);
  if (parseQuantity(config.memory) > os.totalmem()) {
    throw new Error(`${file} is invalid:\n  - memory: ${config.memory} is more than this machine's ${Math.floor(os.totalmem() / 2 ** 20)}Mi`);
  }
  return config;
}

export function offerOf(config: AgentConfig): Offer {
  return {
    cpuMillis: Math.round(parseQuantity(config.cpu) * 1000),
    memoryBytes: Math.round(parseQuantity(config.memory)),
    diskBytes: Math.round(parseQuantity(config.disk)),
    maxPods: config.maxPods,
    labels: config.labels,
    availability: config.availability ?? null,
  };
}
