// Measures the writable layers of the pods' running containers and their disk-backed emptyDir
// volumes every few seconds and evicts the pods disk-usage.ts says must go, as the kubelet's
// eviction manager does on its housekeeping pass.
import type Docker from 'dockerode';
import type { Logger } from 'pino';
import { type PodDiskUsage, diskEvictions } from './disk-usage.js';
import { LABEL } from './naming.js';
import type { PodWorker } from './pod-worker.js';

/** The kubelet's housekeeping period. Each measure walks every running container's writable layer (and volume, with emptyDirs). */
const DISK_CHECK_INTERVAL_MS = 10_000;

export class DiskWatch {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly docker: Docker,
    private readonly nodeName: string,
    private readonly workers: () => Iterable<PodWorker>,
    /** What the provider offers now (0: nothing, then only containers' own limits count). */
    private readonly offeredBytes: () => number,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /**
   * One pass: measure (one container listing with sizes; the volumes' sizes too, from Docker's
   * disk usage report, when a pod has a disk-backed emptyDir), then evict.
   */
  private async check(): Promise<void> {
    const workers = [...this.workers()];
    const targets = workers.map((w) => [w, w.diskTargets()] as const).filter(([, t]) => t.containers.length + t.emptyDirs.length > 0);
    if (targets.length === 0) return;
    const listed = await this.docker.listContainers({ size: true, filters: { label: [`${LABEL.node}=${this.nodeName}`], status: ['running'] } });
    const sizes = new Map(listed.map((c) => [c.Id, (c as Docker.ContainerInfo & { SizeRw?: number }).SizeRw ?? 0]));
    const volumeSizes = targets.some(([, t]) => t.emptyDirs.length > 0) ? await this.volumeSizes() : new Map<string, number>();
    const usage: PodDiskUsage[] = targets.map(([worker, { containers, emptyDirs }]) => ({
      uid: worker.uid,
      // A container not listed ended meanwhile: it holds nothing that counts now.
      containers: containers.map((c) => ({ name: c.name, usedBytes: sizes.get(c.id) ?? 0, limitBytes: c.limitBytes })),
      emptyDirs: emptyDirs.map((v) => ({ name: v.name, usedBytes: volumeSizes.get(v.volume) ?? 0, sizeLimitBytes: v.sizeLimitBytes })),
    }));
    const byUid = new Map(workers.map((w) => [w.uid, w]));
    for (const { uid, message } of diskEvictions(usage, this.offeredBytes())) await byUid.get(uid)?.evict(message);
  }

  /** Bytes in each volume, by name (Docker walks them for /system/df; -1 means not measured). */
  private async volumeSizes(): Promise<Map<string, number>> {
    const df = (await this.docker.df()) as { Volumes?: { Name: string; UsageData?: { Size: number } | null }[] | null };
    return new Map((df.Volumes ?? []).map((v) => [v.Name, Math.max(0, v.UsageData?.Size ?? 0)]));
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.check()
        .catch((err: unknown) => this.log.warn({ err }, 'measuring the pods\' disk usage failed; trying again later'))
        .finally(() => this.schedule());
    }, DISK_CHECK_INTERVAL_MS);
    this.timer.unref();
  }
}
