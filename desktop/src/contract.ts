// The one contract between the renderer and the main process: the DesktopApi interface the
// renderer calls, and the zod schemas of every argument, result and event. Electron's preload
// exposes it over IPC (src/electron/preload.ts); the development server exposes the very same
// methods over HTTP and server-sent events (src/dev/server.ts). Both sides parse what they get.
//
// Browser-safe: only zod and the protocol's message schemas (no Node modules) are imported here.
import { z } from 'zod';
import { EarningsSchema } from '@lattice/protocol/messages';
import type { MethodName } from './ipc.js';

export { METHOD_NAMES, channel, EVENT_CHANNEL, SUBSCRIBE_CHANNEL, type MethodName } from './ipc.js';

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** What this machine has: the most the provider can offer. */
export const MachineSchema = z.object({ cpuCores: z.number().int().positive(), memoryBytes: z.number().positive() });

/** The provider's choices the app lets them change at any time, without re-joining. */
export const SettingsSchema = z.object({
  cpuCores: z.number({ message: 'CPU must be a number of cores' }).min(0.1, 'offer at least 0.1 CPU cores').max(256),
  memoryGib: z.number({ message: 'memory must be a number of GiB' }).min(0.25, 'offer at least 0.25 GiB of memory').max(4096),
  availability: z.object({
    /** Off: available around the clock. */
    limited: z.boolean(),
    start: z.string().regex(HHMM, 'the start time must be HH:MM'),
    end: z.string().regex(HHMM, 'the end time must be HH:MM'),
    days: z.array(z.enum(DAYS)).min(1, 'choose at least one day').max(7),
    timeZone: z.string().min(1, 'choose a time zone').max(64),
  }),
  autoStart: z.boolean(),
});

export const JoinRequestSchema = z.object({
  gateway: z.string().trim().regex(/^[^\s:]+:\d{1,5}$/, 'the gateway address must be HOST:PORT, e.g. gateway.example.net:7443'),
  token: z.string().trim().min(1, 'paste the join token you were given'),
  nodeName: z
    .string()
    .trim()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'the node name may hold lower-case letters, digits and dashes')
    .max(63, 'the node name is at most 63 characters'),
  settings: SettingsSchema,
  acceptTerms: z.literal(true, { message: 'accept the provider terms to join' }),
});

/** An action's outcome: what went wrong is said so the user can act on it. */
export const ResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), error: z.string(), fields: z.record(z.string(), z.string()).optional() }),
]);

export const DockerStatusSchema = z.object({ ok: z.boolean(), version: z.string().nullable(), message: z.string() });

export const ProcessStateSchema = z.enum(['stopped', 'starting', 'running', 'restarting', 'stopping']);
export const ConnectionStateSchema = z.enum(['connecting', 'connected', 'disconnected', 'stopped', 'unknown']);
export const TrayStatusSchema = z.enum(['running', 'paused', 'outside-hours', 'disconnected', 'stopped', 'starting']);

export const AgentInfoSchema = z.object({
  process: ProcessStateSchema,
  pid: z.number().int().nullable(),
  /** Restarts after the agent exited on its own. */
  restarts: z.number().int().min(0),
  nextRestartAt: z.string().nullable(),
  lastExit: z.string().nullable(),
  connection: ConnectionStateSchema,
});

/** A pod bound to this node, as the agent's admin API lists it. */
export const LocalPodSchema = z.object({
  uid: z.string(),
  namespace: z.string(),
  name: z.string(),
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed']),
  cpuMillis: z.number().min(0),
  memoryBytes: z.number().min(0),
});

export const AppStateSchema = z.object({
  /** Onboarding until this machine has joined a cluster. */
  phase: z.enum(['onboarding', 'joined']),
  node: z.string().nullable(),
  gateway: z.string().nullable(),
  machine: MachineSchema,
  settings: SettingsSchema,
  agent: AgentInfoSchema,
  tray: z.object({ status: TrayStatusSchema, tooltip: z.string() }),
  pausedUntil: z.string().nullable(),
  pods: z.array(LocalPodSchema),
  earnings: EarningsSchema.nullable(),
  consoleUrl: z.string().nullable(),
});

export const AppEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('state'), state: AppStateSchema }),
  z.object({ type: z.literal('log'), lines: z.array(z.string()) }),
]);

export type Machine = z.infer<typeof MachineSchema>;
export type Settings = z.infer<typeof SettingsSchema>;
export type JoinRequest = z.infer<typeof JoinRequestSchema>;
export type Result = z.infer<typeof ResultSchema>;
export type DockerStatus = z.infer<typeof DockerStatusSchema>;
export type ProcessState = z.infer<typeof ProcessStateSchema>;
export type ConnectionState = z.infer<typeof ConnectionStateSchema>;
export type TrayStatus = z.infer<typeof TrayStatusSchema>;
export type AgentInfo = z.infer<typeof AgentInfoSchema>;
export type LocalPod = z.infer<typeof LocalPodSchema>;
export type AppState = z.infer<typeof AppStateSchema>;
export type AppEvent = z.infer<typeof AppEventSchema>;
export type Earnings = z.infer<typeof EarningsSchema>;

/** Every call the renderer can make: its arguments and its result. */
export const METHODS = {
  getState: { input: z.tuple([]), output: AppStateSchema },
  checkDocker: { input: z.tuple([]), output: DockerStatusSchema },
  join: { input: z.tuple([JoinRequestSchema]), output: ResultSchema },
  saveSettings: { input: z.tuple([SettingsSchema]), output: ResultSchema },
  startAgent: { input: z.tuple([]), output: ResultSchema },
  stopAgent: { input: z.tuple([]), output: ResultSchema },
  pauseUntilTomorrow: { input: z.tuple([]), output: ResultSchema },
  openConsole: { input: z.tuple([]), output: ResultSchema },
} as const satisfies Record<MethodName, { input: z.ZodTuple; output: z.ZodType }>;
type Call<M extends MethodName> = (...args: z.infer<(typeof METHODS)[M]['input']>) => Promise<z.infer<(typeof METHODS)[M]['output']>>;

/** What the renderer sees as `window.lattice` (Electron) or the development adapter. */
export type DesktopApi = { [M in MethodName]: Call<M> } & {
  /** Calls back with every state change and new log lines (the current state and log first); returns an unsubscribe. */
  onEvent(listener: (event: AppEvent) => void): () => void;
};
