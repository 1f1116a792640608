// How big the messages between gateway and agent may be, and what the agent understands beyond
// its protocol version.

/** The largest gRPC message either side takes (grpc-js takes 4 MiB by default). */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/**
 * The largest pod the gateway sends, its Secrets' and ConfigMaps' files and values included: one
 * Kubernetes object is at most 1.5 MiB, so only a pod naming many big ones comes near.
 */
export const MAX_POD_BYTES = 8 * 1024 * 1024;
/** A podSync to an agent that takes it in parts is cut into parts of about this size. */
export const POD_SYNC_PART_BYTES = 4 * 1024 * 1024;

/**
 * The capabilities a container on a provider has (the agent's runtime/security.ts) unless its
 * `capabilities.drop` takes them away, and all that its `capabilities.add` may name. Of Docker's
 * default set, what an ordinary image needs to start, most often an entrypoint that runs as root to prepare its data directory and then drops to its own
 * user (postgres, nginx, redis...):
 * - CHOWN, FOWNER, FSETID, DAC_OVERRIDE: chown/chmod its files and write to directories it is
 *   about to take over;
 * - SETUID, SETGID: switch to the unprivileged user (gosu, su-exec, nginx workers);
 * - KILL: signal its own children when they run as another user;
 * - NET_BIND_SERVICE: listen on ports below 1024 (80, 443) inside the pod's own network.
 * Left out of Docker's defaults: NET_RAW (raw sockets: spoofing, ARP on the bridge), MKNOD,
 * SYS_CHROOT, SETPCAP, SETFCAP, AUDIT_WRITE.
 */
export const CONTAINER_CAPABILITIES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'SETUID',
  'SETGID',
  'KILL',
  'NET_BIND_SERVICE',
] as const;

/** Features an agent names in Hello.features; the gateway uses one only with an agent that names it. */
export const FEATURES = {
  /** PodSync may come in parts (more = true on all but the last). */
  chunkedPodSync: 'chunked-pod-sync',
} as const;

/** What this agent understands. */
export const AGENT_FEATURES: string[] = Object.values(FEATURES);
