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

export function resourceLimits(resources: Container['resources']): Docker.HostConfig {
  const limits: Docker.HostConfig = { CpuShares: milliCpuToShares(resources.cpuRequestMillis) };
  if (resources.cpuLimitMillis > 0) limits.NanoCpus = resources.cpuLimitMillis * 1_000_000;
  if (resources.memoryLimitBytes > 0) {
    limits.Memory = resources.memoryLimitBytes;
    // Equal to Memory: no swap on top of the limit, so the limit is what the pod really gets.
    limits.MemorySwap = resources.memoryLimitBytes;
  }
  return limits;
}
