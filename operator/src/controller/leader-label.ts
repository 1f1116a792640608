// Marks the pod of the current leader with lattice.dev/leader=true, so that a Service whose
// selector includes the label (the gateway's: agents must reach the one replica that serves
// them) routes only to the leader. The label is removed when leadership ends cleanly, and at
// startup, in case this pod's previous container exited holding it.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Runnable } from './manager.js';

export const LEADER_LABEL = 'lattice.dev/leader';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export class LeaderLabel implements Runnable {
  readonly name = 'leader pod label';

  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly pod: { name: string; namespace: string },
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    return this.set('true');
  }

  stop(): Promise<void> {
    return this.set(null).catch((err: unknown) => this.log.warn({ err }, 'could not remove the leader label from this pod'));
  }

  /** Removes the label left by an earlier container of this pod. */
  clear(): Promise<void> {
    return this.stop();
  }

  private async set(value: 'true' | null): Promise<void> {
    await this.core.patchNamespacedPod({ ...this.pod, body: { metadata: { labels: { [LEADER_LABEL]: value } } } }, mergePatch);
  }
}
