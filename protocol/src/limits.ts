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

/** Features an agent names in Hello.features; the gateway uses one only with an agent that names it. */
export const FEATURES = {
  /** PodSync may come in parts (more = true on all but the last). */
  chunkedPodSync: 'chunked-pod-sync',
} as const;

/** What this agent understands. */
export const AGENT_FEATURES: string[] = Object.values(FEATURES);
