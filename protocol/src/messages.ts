// zod schemas for every message of agent.proto, as @grpc/proto-loader decodes them with
// LOADER_OPTIONS (camelCase fields, int64 as number, bytes as Buffer, the name of the set member
// of each oneof in a virtual field, defaults filled in). Both sides parse what they receive with
// these, so a malformed or hostile peer is refused at the edge; the types below are the only
// description of the messages in TypeScript.
import { z } from 'zod';

const name = z.string().max(253);
const shortText = z.string().max(1024);
const longText = z.string().max(32 * 1024);
const int = z.number().int();
const nonNegative = int.min(0);
const timestamp = z.string().max(64); // RFC 3339, or "" when unset
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: "expected bytes" });

export const AvailabilitySchema = z.object({
  timeZone: z.string().max(64),
  days: z.array(z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'])).max(7),
  start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'start must be HH:MM'),
  end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'end must be HH:MM'),
});

export const OfferSchema = z.object({
  cpuMillis: nonNegative,
  memoryBytes: nonNegative,
  maxPods: nonNegative,
  diskBytes: nonNegative.default(0),
  labels: z.record(z.string().max(317), z.string().max(63)).default({}),
  availability: AvailabilitySchema.nullish(),
});

export const SystemInfoSchema = z.object({
  os: shortText,
  architecture: shortText,
  kernelVersion: shortText,
  containerRuntimeVersion: shortText,
  machineCpuMillis: nonNegative,
  machineMemoryBytes: nonNegative,
});

export const HelloSchema = z.object({
  protocolVersion: int,
  agentVersion: shortText,
  offer: OfferSchema,
  system: SystemInfoSchema.nullish(),
  features: z.array(shortText).max(32).default([]),
});

export const JoinRequestSchema = z.object({
  token: z.string().min(1).max(512),
  nodeName: name,
  csrPem: z.string().min(1).max(16 * 1024),
});

export const RenewRequestSchema = z.object({ csrPem: z.string().min(1).max(16 * 1024) });

export const JoinResponseSchema = z.object({
  nodeName: name,
  certificatePem: z.string().min(1).max(16 * 1024),
  caPem: z.string().min(1).max(16 * 1024),
});

const EnvVarSchema = z.object({ name: z.string().max(1024), value: longText, fromPodIp: z.boolean().optional() });
const ContainerPortSchema = z.object({
  name: z.string().max(15),
  containerPort: int.min(1).max(65535),
  protocol: z.enum(['TCP', 'UDP']),
});
const ResourcesSchema = z.object({
  cpuRequestMillis: nonNegative,
  cpuLimitMillis: nonNegative,
  memoryRequestBytes: nonNegative,
  memoryLimitBytes: nonNegative,
  ephemeralStorageLimitBytes: nonNegative.default(0),
});

export const ProbeSchema = z.object({
  handler: z.enum(['httpGet', 'tcpSocket', 'exec']),
  httpGet: z
    .object({
      path: shortText,
      port: int.min(1).max(65535),
      scheme: z.enum(['HTTP', 'HTTPS']),
      headers: z.array(z.object({ name: shortText, value: shortText })).max(32),
    })
    .nullish(),
  tcpSocket: z.object({ port: int.min(1).max(65535) }).nullish(),
  exec: z.object({ command: z.array(longText).min(1).max(256) }).nullish(),
  initialDelaySeconds: nonNegative,
  periodSeconds: nonNegative,
  timeoutSeconds: nonNegative,
  successThreshold: nonNegative,
  failureThreshold: nonNegative,
});

const VolumeMountSchema = z.object({
  name: z.string().max(63),
  mountPath: z.string().min(1).max(4096),
  readOnly: z.boolean(),
  subPath: z.string().max(4096),
});

export const ContainerSchema = z.object({
  name: z.string().min(1).max(63),
  image: z.string().min(1).max(1024),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
  command: z.array(longText).max(256),
  args: z.array(longText).max(1024),
  env: z.array(EnvVarSchema).max(1024),
  ports: z.array(ContainerPortSchema).max(64),
  resources: ResourcesSchema,
  readinessProbe: ProbeSchema.nullish(),
  livenessProbe: ProbeSchema.nullish(),
  startupProbe: ProbeSchema.nullish(),
  volumeMounts: z.array(VolumeMountSchema).max(64),
  workingDir: z.string().max(4096),
  tty: z.boolean(),
  stdin: z.boolean(),
  runAsUser: int.min(0).nullish(),
  runAsGroup: int.min(0).nullish(),
  runAsNonRoot: z.boolean().default(false),
  readOnlyRootFilesystem: z.boolean().default(false),
  /** securityContext.capabilities, without a CAP_ prefix: `drop` may name ALL. */
  addCapabilities: z.array(z.string().min(1).max(64)).max(64).default([]),
  dropCapabilities: z.array(z.string().min(1).max(64)).max(64).default([]),
  /** Lifecycle hooks: exec, or httpGet to the pod itself; a probe's timing fields are unused. */
  postStart: ProbeSchema.nullish(),
  preStop: ProbeSchema.nullish(),
});

const FileSchema = z.object({
  path: z.string().min(1).max(4096),
  content: bytes,
  mode: int.min(0).max(0o777),
});

export const VolumeSchema = z.object({
  name: z.string().min(1).max(63),
  source: z.enum(['emptyDir', 'files', 'local']),
  emptyDir: z.object({ medium: z.enum(['', 'Memory']), sizeLimitBytes: nonNegative }).nullish(),
  files: z.object({ files: z.array(FileSchema).max(1024), defaultMode: int.min(0).max(0o777) }).nullish(),
  local: z.object({ volumeName: z.string().min(1).max(253) }).nullish(),
});

export const PodSchema = z.object({
  uid: z.string().min(1).max(64),
  namespace: z.string().min(1).max(63),
  name: name,
  initContainers: z.array(ContainerSchema).max(16),
  containers: z.array(ContainerSchema).min(1).max(16),
  restartPolicy: z.enum(['Always', 'OnFailure', 'Never']),
  terminationGracePeriodSeconds: nonNegative,
  volumes: z.array(VolumeSchema).max(64),
  registryAuths: z.array(z.object({ server: shortText, username: shortText, password: longText })).max(16),
  hostname: z.string().max(63),
  revision: shortText,
  tailnet: z
    .object({
      loginServer: z.url({ protocol: /^https?$/ }),
      authKey: z.string().min(1).max(512),
      hostname: z.string().min(1).max(63),
      ports: z.array(int.min(1).max(65535)).min(1).max(32),
    })
    .nullish(),
});

export const PodDeleteSchema = z.object({ uid: z.string().min(1).max(64), gracePeriodSeconds: nonNegative });

export const ContainerStateSchema = z.object({
  state: z.enum(['waiting', 'running', 'terminated']),
  waiting: z.object({ reason: shortText, message: longText }).nullish(),
  running: z.object({ startedAt: timestamp }).nullish(),
  terminated: z
    .object({ exitCode: int, reason: shortText, message: longText, startedAt: timestamp, finishedAt: timestamp })
    .nullish(),
});

export const ContainerStatusSchema = z.object({
  name: z.string().min(1).max(63),
  state: ContainerStateSchema,
  lastState: ContainerStateSchema.nullish(),
  ready: z.boolean(),
  started: z.boolean(),
  restartCount: nonNegative,
  image: z.string().max(1024),
  imageId: z.string().max(1024),
  containerId: z.string().max(256),
});

export const PodStatusSchema = z.object({
  uid: z.string().min(1).max(64),
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed']),
  reason: shortText,
  message: longText,
  podIp: z.string().max(64),
  startTime: timestamp,
  initContainerStatuses: z.array(ContainerStatusSchema).max(16),
  containerStatuses: z.array(ContainerStatusSchema).max(16),
  deleted: z.boolean(),
  tailnetAddress: z.string().max(64).optional(),
});

export const PodEventSchema = z.object({
  podUid: z.string().min(1).max(64),
  type: z.enum(['Normal', 'Warning']),
  reason: z.string().min(1).max(128),
  message: longText,
});

export const LogOptionsSchema = z.object({
  follow: z.boolean(),
  tailLines: nonNegative.nullish(),
  sinceSeconds: nonNegative.nullish(),
  sinceTime: timestamp,
  timestamps: z.boolean(),
  previous: z.boolean(),
  limitBytes: nonNegative.nullish(),
});

export const ExecOptionsSchema = z.object({
  command: z.array(longText).min(1).max(256),
  stdin: z.boolean(),
  stdout: z.boolean(),
  stderr: z.boolean(),
  tty: z.boolean(),
});

export const DialOptionsSchema = z.object({ port: int.min(1).max(65535) });

export const OpenStreamSchema = z.object({
  streamId: z.string().min(1).max(64),
  podUid: z.string().min(1).max(64),
  container: z.string().max(63),
  kind: z.enum(['logs', 'exec', 'dial']),
  logs: LogOptionsSchema.nullish(),
  exec: ExecOptionsSchema.nullish(),
  dial: DialOptionsSchema.nullish(),
});

export const StreamFlowSchema = z.object({ streamId: z.string().min(1).max(64), paused: z.boolean() });

export const ServiceEntrySchema = z.object({
  namespace: z.string().min(1).max(63),
  name: z.string().min(1).max(63),
  ports: z.array(int.min(1).max(65535)).max(64),
});
export const ServiceSyncSchema = z.object({ services: z.array(ServiceEntrySchema).max(10_000) });
export const ServiceDialSchema = z.object({
  streamId: z.string().min(1).max(64),
  namespace: z.string().min(1).max(63),
  service: z.string().min(1).max(63),
  port: int.min(1).max(65535),
});

export const StreamDataSchema = z.object({
  streamId: z.string().min(1).max(64),
  channel: int.min(0).max(4),
  data: bytes.refine((b) => b.byteLength <= 1024 * 1024, 'a stream chunk is at most 1 MiB'),
});

export const StreamResizeSchema = z.object({
  streamId: z.string().min(1).max(64),
  width: nonNegative.max(10_000),
  height: nonNegative.max(10_000),
});

export const StreamEndSchema = z.object({
  streamId: z.string().min(1).max(64),
  error: longText,
  exitCode: int.nullish(),
});

export const VolumeDeleteSchema = z.object({ volumeName: z.string().min(1).max(253) });
export const VolumeDeletedSchema = z.object({ volumeName: z.string().min(1).max(253), error: longText });
/** A registry host[:port] as image references name it; "" when the gateway names none. */
const registryHost = z.string().regex(/^([a-z0-9.-]+(:\d{1,5})?)?$/i, 'must be a registry host[:port]').max(255);
const imageRef = z.string().max(512);
export const PlatformImagesSchema = z.object({ sandbox: imageRef, isolation: imageRef, git: imageRef });
export const WelcomeSchema = z.object({
  nodeName: name,
  protocolVersion: int,
  clusterRegistry: registryHost,
  images: PlatformImagesSchema.nullish(),
});
export const PodSyncSchema = z.object({
  pods: z.array(PodSchema).max(1000),
  more: z.boolean().default(false),
  kept: z.array(z.string().min(1).max(64)).max(1000).default([]),
});

const finite = z.number().finite().min(0);
export const EarningsDaySchema = z.object({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'date must be YYYY-MM-DD'),
  cpuCoreSeconds: finite,
  memoryGibSeconds: finite,
  amountMicros: nonNegative,
});
export const UsageSampleSchema = z.object({ at: timestamp, cpuMillis: nonNegative, memoryBytes: nonNegative, pods: nonNegative });
export const PodEarningsSchema = z.object({
  namespace: z.string().max(63),
  name,
  cpuCoreSeconds: finite,
  memoryGibSeconds: finite,
  amountMicros: nonNegative,
  lastSeen: timestamp,
});
export const EarningsSchema = z.object({
  currency: z.string().regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code'),
  totalMicros: nonNegative,
  days: z.array(EarningsDaySchema).max(400),
  samples: z.array(UsageSampleSchema).max(2000),
  cpuCoreHourPrice: finite,
  memoryGibHourPrice: finite,
  updatedAt: timestamp,
  pods: z.array(PodEarningsSchema).max(500),
});

const HttpHeaderSchema = z.object({ name: z.string().min(1).max(256), value: z.string().max(8192) });
export const RegistryRequestSchema = z.object({
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: z.string().startsWith('/v2/').max(2048),
  headers: z.array(HttpHeaderSchema).max(64),
});
export const RegistryResponseSchema = z.object({
  status: int.min(100).max(599),
  headers: z.array(HttpHeaderSchema).max(64),
});
const MAX_BODY_FRAME = 1 << 20;
/** One frame of a Registry call; bodies come in frames of at most 1 MiB. */
export const RegistryFrameSchema = z.discriminatedUnion('frame', [
  z.object({ frame: z.literal('request'), request: RegistryRequestSchema }),
  z.object({ frame: z.literal('response'), response: RegistryResponseSchema }),
  z.object({ frame: z.literal('body'), body: bytes.refine((b) => b.byteLength <= MAX_BODY_FRAME, 'a body frame is at most 1 MiB') }),
]);

/** A chunk of an HTTP body as the body frames that carry it. */
export function bodyFrames(chunk: Uint8Array): RegistryFrame[] {
  const frames: RegistryFrame[] = [];
  for (let offset = 0; offset < chunk.length; offset += MAX_BODY_FRAME) frames.push({ frame: 'body', body: chunk.subarray(offset, offset + MAX_BODY_FRAME) });
  return frames;
}

/** One message on the stream, agent to gateway: the `msg` field names the member that is set. */
export const AgentMessageSchema = z.discriminatedUnion('msg', [
  z.object({ msg: z.literal('hello'), hello: HelloSchema }),
  z.object({ msg: z.literal('offer'), offer: OfferSchema }),
  z.object({ msg: z.literal('podStatus'), podStatus: PodStatusSchema }),
  z.object({ msg: z.literal('podEvent'), podEvent: PodEventSchema }),
  z.object({ msg: z.literal('streamData'), streamData: StreamDataSchema }),
  z.object({ msg: z.literal('streamEnd'), streamEnd: StreamEndSchema }),
  z.object({ msg: z.literal('volumeDeleted'), volumeDeleted: VolumeDeletedSchema }),
  z.object({ msg: z.literal('streamFlow'), streamFlow: StreamFlowSchema }),
  z.object({ msg: z.literal('serviceDial'), serviceDial: ServiceDialSchema }),
]);

/** One message on the stream, gateway to agent. */
export const GatewayMessageSchema = z.discriminatedUnion('msg', [
  z.object({ msg: z.literal('welcome'), welcome: WelcomeSchema }),
  z.object({ msg: z.literal('podSync'), podSync: PodSyncSchema }),
  z.object({ msg: z.literal('podUpsert'), podUpsert: PodSchema }),
  z.object({ msg: z.literal('podDelete'), podDelete: PodDeleteSchema }),
  z.object({ msg: z.literal('openStream'), openStream: OpenStreamSchema }),
  z.object({ msg: z.literal('streamData'), streamData: StreamDataSchema }),
  z.object({ msg: z.literal('streamResize'), streamResize: StreamResizeSchema }),
  z.object({ msg: z.literal('streamEnd'), streamEnd: StreamEndSchema }),
  z.object({ msg: z.literal('volumeDelete'), volumeDelete: VolumeDeleteSchema }),
  z.object({ msg: z.literal('earnings'), earnings: EarningsSchema }),
  z.object({ msg: z.literal('streamFlow'), streamFlow: StreamFlowSchema }),
  z.object({ msg: z.literal('serviceSync'), serviceSync: ServiceSyncSchema }),
]);

export type Availability = z.infer<typeof AvailabilitySchema>;
export type Offer = z.infer<typeof OfferSchema>;
export type SystemInfo = z.infer<typeof SystemInfoSchema>;
export type Hello = z.infer<typeof HelloSchema>;
export type JoinRequest = z.infer<typeof JoinRequestSchema>;
export type JoinResponse = z.infer<typeof JoinResponseSchema>;
export type Probe = z.infer<typeof ProbeSchema>;
export type Container = z.infer<typeof ContainerSchema>;
export type Volume = z.infer<typeof VolumeSchema>;
export type Pod = z.infer<typeof PodSchema>;
export type PodDelete = z.infer<typeof PodDeleteSchema>;
export type ContainerState = z.infer<typeof ContainerStateSchema>;
export type ContainerStatus = z.infer<typeof ContainerStatusSchema>;
export type PodStatus = z.infer<typeof PodStatusSchema>;
export type PodEvent = z.infer<typeof PodEventSchema>;
export type LogOptions = z.infer<typeof LogOptionsSchema>;
export type ExecOptions = z.infer<typeof ExecOptionsSchema>;
export type DialOptions = z.infer<typeof DialOptionsSchema>;
export type OpenStream = z.infer<typeof OpenStreamSchema>;
export type StreamFlow = z.infer<typeof StreamFlowSchema>;
export type ServiceEntry = z.infer<typeof ServiceEntrySchema>;
export type ServiceSync = z.infer<typeof ServiceSyncSchema>;
export type ServiceDial = z.infer<typeof ServiceDialSchema>;
export type StreamData = z.infer<typeof StreamDataSchema>;
export type StreamResize = z.infer<typeof StreamResizeSchema>;
export type StreamEnd = z.infer<typeof StreamEndSchema>;
export type Earnings = z.infer<typeof EarningsSchema>;
export type EarningsDay = z.infer<typeof EarningsDaySchema>;
export type UsageSample = z.infer<typeof UsageSampleSchema>;
export type PodEarnings = z.infer<typeof PodEarningsSchema>;
export type PlatformImages = z.infer<typeof PlatformImagesSchema>;
export type Welcome = z.infer<typeof WelcomeSchema>;
export type RegistryFrame = z.infer<typeof RegistryFrameSchema>;
export type RegistryRequest = z.infer<typeof RegistryRequestSchema>;
export type RegistryResponse = z.infer<typeof RegistryResponseSchema>;
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
export type GatewayMessage = z.infer<typeof GatewayMessageSchema>;
