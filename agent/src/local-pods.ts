// The pods bound to this node as the gateway sent them, with their last reported phase: what
// the admin API shows the provider (the desktop app's dashboard). Resources are the requests,
// which is what the cluster reserves here and meters.
import type { Pod, PodStatus } from '@lattice/protocol';

export interface LocalPod {
  uid: string;
  namespace: string;
  name: string;
  phase: PodStatus['phase'];
  cpuMillis: number;
  memoryBytes: number;
}

export class LocalPods {
  private readonly pods = new Map<string, LocalPod>();

  /** The complete set after a (re)connect. */
  /** The node's whole set: `pods`, and what it has of `kept` (PodSync.kept). */
  sync(pods: Pod[], kept: readonly string[] = []): void {
    const previous = new Map(this.pods);
    this.pods.clear();
    for (const pod of pods) this.upsert(pod, previous.get(pod.uid)?.phase);
    for (const uid of kept) {
      const known = previous.get(uid);
      if (known) this.pods.set(uid, known);
    }
  }

  upsert(pod: Pod, phase: PodStatus['phase'] = this.pods.get(pod.uid)?.phase ?? 'Pending'): void {
    const sum = (key: 'cpuRequestMillis' | 'memoryRequestBytes') => pod.containers.reduce((n, c) => n + c.resources[key], 0);
    this.pods.set(pod.uid, { uid: pod.uid, namespace: pod.namespace, name: pod.name, phase, cpuMillis: sum('cpuRequestMillis'), memoryBytes: sum('memoryRequestBytes') });
  }

  /** The runtime's report: the phase follows; a deleted pod is gone. */
  status(status: PodStatus): void {
    const pod = this.pods.get(status.uid);
    if (!pod) return;
    if (status.deleted) this.pods.delete(status.uid);
    else pod.phase = status.phase;
  }

  list(): LocalPod[] {
    return [...this.pods.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  }
}
