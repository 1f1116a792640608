// A container's resources as Docker cgroup settings, the way the kubelet maps them.
import type Docker from 'dockerode';
import type { Container } from '@lattice/protocol';

// The kubelet's MilliCPUToShares bounds (cgroup v1 cpu.shares).
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

/** CPU request → relative weight under contention; no request gets the minimum, like BestEffort. */
export function milliCpuToShares(milliCpu: number): number {
  const shares = Math.floor((milliCpu * 1024) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** What the provider lends the cluster: no container may take more, whatever its pod says. */
export interface Ceiling {
  cpuMillis: number;
  memoryBytes: number;
  /** What all pods' writable layers may hold together (disk-usage.ts); 0: not offered. */
  diskBytes: number;
}

/**
 * The container's limits, or the ceiling's where it sets none: a kubelet's pods without limits are
 * bounded by the node's allocatable; without this, one would take all of the provider's machine.
 */
export function resourceLimits(resources: Container['resources'], ceiling?: Ceiling): Docker.HostConfig {
  const limits: Docker.HostConfig = { CpuShares: milliCpuToShares(resources.cpuRequestMillis) };
  const cpu = resources.cpuLimitMillis > 0 ? resources.cpuLimitMillis : (ceiling?.cpuMillis ?? 0);
  const memory = resources.memoryLimitBytes > 0 ? resources.memoryLimitBytes : (ceiling?.memoryBytes ?? 0);
  if (cpu > 0) limits.NanoCpus = cpu * 1_000_000;
  if (memory > 0) {
    limits.Memory = memory;
    // Equal to Memory: no swap on top of the limit, so the limit is what the pod really gets.
    limits.MemorySwap = memory;
  }
  return limits;
}
