// Pods bound to provider nodes: down to their agent, and their status back to the API.
//
// Informers keep the pods bound to any node, and the Secrets, ConfigMaps and claims those pods
// reference; a pod goes only to the session of the node it is bound to, resolved for that node
// alone. What an agent reports is accepted only for pods bound to that agent's node.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { FEATURES, MAX_POD_BYTES, POD_SYNC_PART_BYTES, PodSchema, encodedSize, type GatewayMessage, type Pod, type PodEvent, type PodStatus } from '@lattice/protocol';
import { isNotFound } from '../kube/errors.js';
import { podTarget, type EventRecorder } from '../kube/events.js';
import type { ProviderBudgets } from './provider-budget.js';
import { rejection, type Capacity } from './admission.js';
import { acceptedTailnetAddress } from './reported-addresses.js';
import { informer, waitForCacheSync, type Cache } from '../kube/informer.js';
import type { GatewayMetrics } from './metrics.js';
import { pullCredentials } from './pull-credentials.js';
import { PodNotReady, PodRefused, toAgentPod, toKubernetesStatus, type PodResolver } from './pod-translation.js';
import { recordTailnetAddress } from './tailnet.js';
import { LOCAL_STORAGE_CLASS, localVolumeName } from './local-volumes.js';

const mebibytes = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** What the dispatcher needs of a connected agent. */
export interface NodeSink {
  send(msg: GatewayMessage): boolean;
}

/** sent's mark of a pod left to its agent as it is, without a description (PodSync.kept). */
const KEPT = 'kept';

/** Evicted by its agent (agent/src/runtime/disk-usage.ts): what is left of it stays as it is. */
const evicted = (pod: k8s.V1Pod) => pod.status?.phase === 'Failed' && pod.status.reason === 'Evicted';

export class PodDispatcher implements PodResolver {
  private readonly pods: Cache<k8s.V1Pod>;
  private readonly secrets: Cache<k8s.V1Secret>;
  private readonly configMaps: Cache<k8s.V1ConfigMap>;
  private readonly claims: Cache<k8s.V1PersistentVolumeClaim>;
  private readonly sinks = new Map<string, NodeSink>();
  private readonly stopped = new AbortController();
  /**
   * Per node: pod uid -> revision last sent, so an unchanged pod is not sent again; or 'deleting',
   * or KEPT (left running as it is by the node's last podSync, no revision sent).
   */
  private readonly sent = new Map<string, Map<string, string>>();
  /** Pods waiting for something they reference (uid -> namespace). */
  private readonly blocked = new Map<string, string>();
  private readonly refused = new Set<string>();

  constructor(
    kc: k8s.KubeConfig,
    private readonly core: k8s.CoreV1Api,
    private readonly events: EventRecorder,
    private readonly metrics: GatewayMetrics,
    readonly hostIP: string,
    private readonly budgets: ProviderBudgets,
    /** What the node's provider offers now; undefined before it said. */
    private readonly capacityOf: (nodeName: string) => Capacity | undefined,
    private readonly log: Logger,
  ) {
    const scheduled = 'spec.nodeName!=';
    this.pods = informer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces({ fieldSelector: scheduled }), log, { fieldSelector: scheduled });
    this.secrets = informer(kc, '/api/v1/secrets', () => core.listSecretForAllNamespaces(), log);
    this.configMaps = informer(kc, '/api/v1/configmaps', () => core.listConfigMapForAllNamespaces(), log);
    this.claims = informer(kc, '/api/v1/persistentvolumeclaims', () => core.listPersistentVolumeClaimForAllNamespaces(), log);

    this.pods.on('add', (pod) => this.podChanged(pod));
    this.pods.on('update', (pod) => this.podChanged(pod));
    this.pods.on('delete', (pod) => this.podGone(pod));
    for (const cache of [this.secrets, this.configMaps, this.claims] as Cache<k8s.KubernetesObject>[]) {
      const retry = (obj: k8s.KubernetesObject) => this.retryBlocked(obj.metadata?.namespace);
      cache.on('add', retry);
      cache.on('update', retry);
    }
  }

  /** Resolves once every cache holds a snapshot: not when a first list failed (informer.ts). */
  async start(): Promise<void> {
    await Promise.all([this.secrets.start(), this.configMaps.start(), this.claims.start()]);
    await this.pods.start();
    // A podSync from a cache that has not listed yet would tell every agent to remove all it runs.
    await waitForCacheSync([this.secrets, this.configMaps, this.claims, this.pods], this.stopped.signal);
  }

  async stop(): Promise<void> {
    this.stopped.abort();
    await Promise.all([this.pods.stop(), this.secrets.stop(), this.configMaps.stop(), this.claims.stop()]);
  }

  // PodResolver, from the caches.
  secret(namespace: string, name: string) {
    return this.secrets.get(name, namespace);
  }
  configMap(namespace: string, name: string) {
    return this.configMaps.get(name, namespace);
  }
  localVolume(namespace: string, claimName: string) {
    const claim = this.claims.get(claimName, namespace);
    if (claim?.status?.phase !== 'Bound' || claim.spec?.storageClassName !== LOCAL_STORAGE_CLASS || !claim.spec.volumeName) return undefined;
    return localVolumeName(claim.spec.volumeName);
  }

  capacity(nodeName: string) {
    return this.capacityOf(nodeName);
  }

  pod(namespace: string, name: string): k8s.V1Pod | undefined {
    return this.pods.get(name, namespace);
  }

  /** Calls `listener` when a pod is bound to a node or goes away. */
  onPodsChanged(listener: () => void): void {
    this.pods.on('add', listener);
    this.pods.on('delete', listener);
  }

  podsIn(namespace: string): readonly k8s.V1Pod[] {
    return this.pods.list(namespace);
  }

  podsOf(nodeName: string): k8s.V1Pod[] {
    return this.pods.list().filter((p) => p.spec?.nodeName === nodeName);
  }

  /**
   * A node's agent connected: send it the complete set of pods it must run, in parts of at most
   * POD_SYNC_PART_BYTES if it takes parts (`features`, from its Hello), else in one message.
   */
  attach(nodeName: string, sink: NodeSink, features: readonly string[] = []): void {
    this.sinks.set(nodeName, sink);
    const sent = new Map<string, string>();
    this.sent.set(nodeName, sent);
    const parts: Pod[][] = [[]];
    const kept: string[] = [];
    const keep = (pod: k8s.V1Pod): void => {
      kept.push(pod.metadata!.uid!);
      sent.set(pod.metadata!.uid!, KEPT);
    };
    let partBytes = 0;
    const inParts = features.includes(FEATURES.chunkedPodSync);
    // Admitted oldest first, as a restarted kubelet admits its pods.
    const oldestFirst = this.podsOf(nodeName).sort((a, b) => Date.parse(String(a.metadata?.creationTimestamp)) - Date.parse(String(b.metadata?.creationTimestamp)));
    for (const pod of oldestFirst) {
      if (pod.metadata?.deletionTimestamp) continue; // sent as deletes below, once synced
      if (evicted(pod)) {
        keep(pod);
        continue;
      }
      if (!this.admitted(nodeName, pod, oldestFirst)) continue;
      const { pod: translated, bytes } = this.translate(pod) ?? {};
      if (!translated || bytes === undefined) {
        // It ran, and now lacks a Secret, ConfigMap or claim: keep it running, as a kubelet does.
        if (this.blocked.has(pod.metadata!.uid!) && pod.status?.startTime) keep(pod);
        continue;
      }
      if (inParts && partBytes > 0 && partBytes + bytes > POD_SYNC_PART_BYTES) {
        parts.push([]);
        partBytes = 0;
      }
      parts.at(-1)!.push(translated);
      partBytes += bytes;
      sent.set(translated.uid, translated.revision);
    }
    parts.forEach((pods, i) => {
      const last = i === parts.length - 1;
      sink.send({ msg: 'podSync', podSync: { pods, more: !last, kept: last ? kept : [] } });
    });
    for (const pod of this.podsOf(nodeName).filter((p) => p.metadata?.deletionTimestamp)) this.podChanged(pod);
    this.metrics.podsPerNode.set({ node: nodeName }, sent.size);
  }

  detach(nodeName: string, sink: NodeSink): void {
    if (this.sinks.get(nodeName) !== sink) return; // a newer session already replaced it
    this.sinks.delete(nodeName);
    this.sent.delete(nodeName);
  }

  private podChanged(pod: k8s.V1Pod): void {
    const nodeName = pod.spec?.nodeName;
    const sink = nodeName ? this.sinks.get(nodeName) : undefined;
    if (!nodeName || !sink) return;
    const uid = pod.metadata!.uid!;
    const sent = this.sent.get(nodeName)!;
    if (pod.metadata?.deletionTimestamp) {
      if (sent.get(uid) === 'deleting') return;
      sent.set(uid, 'deleting');
      sink.send({ msg: 'podDelete', podDelete: { uid, gracePeriodSeconds: pod.metadata.deletionGracePeriodSeconds ?? 30 } });
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      if (!sent.has(uid)) return; // finished before we saw it: nothing to run
    }
    if (evicted(pod)) return; // its agent stopped it for good; a restarted one must not start it again
    if (!sent.has(uid) && !this.admitted(nodeName, pod)) return;
    const { pod: translated, pullProblems = [] } = this.translate(pod) ?? {};
    if (!translated || sent.get(uid) === translated.revision) return;
    sent.set(uid, translated.revision);
    sink.send({ msg: 'podUpsert', podUpsert: translated });
    // Once per revision sent: the kubelet's warning, and the pull goes on without those Secrets.
    for (const problem of pullProblems) {
      void this.events.record(podTarget(pod), 'Warning', 'FailedToRetrieveImagePullSecret', `${problem}; pulling without it may not succeed`);
    }
    this.metrics.podsPerNode.set({ node: nodeName }, sent.size);
  }

  private podGone(pod: k8s.V1Pod): void {
    const nodeName = pod.spec?.nodeName;
    const sink = nodeName ? this.sinks.get(nodeName) : undefined;
    const uid = pod.metadata!.uid!;
    this.blocked.delete(uid);
    this.refused.delete(uid);
    if (!nodeName || !sink) return;
    const sent = this.sent.get(nodeName)!;
    if (sent.delete(uid)) sink.send({ msg: 'podDelete', podDelete: { uid, gracePeriodSeconds: 0 } });
    this.metrics.podsPerNode.set({ node: nodeName }, sent.size);
  }

  /** The pod as sent to its agent, its encoded size, and what is wrong with its pull Secrets. */
  private translate(pod: k8s.V1Pod): { pod: Pod; bytes: number; pullProblems: string[] } | undefined {
    const uid = pod.metadata!.uid!;
    try {
      const credentials = pullCredentials(pod, this);
      const translated = toAgentPod(pod, this, credentials);
      this.blocked.delete(uid);
      // What the agent would refuse (and with it the whole podSync it came in) is refused here, once.
      const valid = PodSchema.safeParse(translated);
      if (!valid.success) {
        const issue = valid.error.issues[0]!;
        throw new PodRefused(`the pod cannot be run on a Lattice provider: ${issue.path.join('.')}: ${issue.message}`);
      }
      // Bigger would not fit a message the agent takes: said once, not retried on every connect.
      const bytes = encodedSize({ msg: 'podUpsert', podUpsert: translated });
      if (bytes > MAX_POD_BYTES) {
        throw new PodRefused(
          `the pod with the Secrets and ConfigMaps it uses comes to ${mebibytes(bytes)} MiB; a provider is sent at most ${mebibytes(MAX_POD_BYTES)} MiB per pod`,
        );
      }
      return { pod: translated, bytes, pullProblems: credentials.problems };
    } catch (err) {
      if (err instanceof PodNotReady) {
        if (!this.blocked.has(uid)) void this.events.record(podTarget(pod), 'Warning', 'FailedMount', err.message);
        this.blocked.set(uid, pod.metadata!.namespace!);
        return undefined;
      }
      if (err instanceof PodRefused) {
        void this.refuse(pod, err.message);
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Whether the pod fits the node beside the pods already sent there (admission.ts); one that does
   * not is rejected as the kubelet rejects it, once and for good.
   */
  private admitted(nodeName: string, pod: k8s.V1Pod, nodePods?: readonly k8s.V1Pod[]): boolean {
    const capacity = this.capacityOf(nodeName);
    const sent = this.sent.get(nodeName);
    if (!capacity || !sent) return true;
    const admitted = (nodePods ?? this.podsOf(nodeName)).filter((p) => sent.has(p.metadata!.uid!) && p.metadata!.uid !== pod.metadata!.uid);
    const rejected = rejection(pod, admitted, capacity);
    if (rejected) void this.refuse(pod, rejected.message, rejected.reason);
    return !rejected;
  }

  /** A pod the node must never run (what a provider may not do, or what does not fit): never run it, and say why. */
  private async refuse(pod: k8s.V1Pod, message: string, reason = 'ProviderRefused'): Promise<void> {
    const uid = pod.metadata!.uid!;
    if (this.refused.has(uid) || pod.status?.phase === 'Failed') return;
    this.refused.add(uid);
    this.log.info({ pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`, reason, message }, 'refusing pod');
    await this.events.record(podTarget(pod), 'Warning', reason, message);
    await this.patchStatus(pod, { phase: 'Failed', reason, message });
  }

  private retryBlocked(namespace: string | undefined): void {
    for (const [uid, ns] of this.blocked) {
      if (ns !== namespace) continue;
      const pod = this.pods.list(ns).find((p) => p.metadata?.uid === uid);
      if (pod) this.podChanged(pod);
    }
  }

  /** The pod with this uid, if it is bound to `nodeName`; anything else is not this agent's. */
  ownPod(nodeName: string, uid: string): k8s.V1Pod | undefined {
    return this.podsOf(nodeName).find((p) => p.metadata?.uid === uid);
  }

  /**
   * Status writes per pod, one at a time, newest wins: two reports in quick succession must not
   * land in the API out of order and leave the older one standing.
   */
  private readonly statusWrites = new Map<string, { next?: { nodeName: string; status: PodStatus } }>();

  async statusReported(nodeName: string, status: PodStatus): Promise<void> {
    const inFlight = this.statusWrites.get(status.uid);
    if (inFlight) {
      inFlight.next = { nodeName, status };
      return;
    }
    const slot: { next?: { nodeName: string; status: PodStatus } } = {};
    this.statusWrites.set(status.uid, slot);
    try {
      let current: { nodeName: string; status: PodStatus } | undefined = { nodeName, status };
      while (current) {
        await this.writeStatus(current.nodeName, current.status).catch((err) => this.log.error({ err, uid: status.uid }, 'writing pod status failed'));
        current = slot.next;
        slot.next = undefined;
      }
    } finally {
      this.statusWrites.delete(status.uid);
    }
  }

  private async writeStatus(nodeName: string, status: PodStatus): Promise<void> {
    const pod = this.ownPod(nodeName, status.uid);
    // An agent's last word on a pod whose deletion is already finished (no pod of that uid is
    // left anywhere): nothing to write, and nothing foreign about it.
    if (!pod && status.deleted && !this.pods.list().some((p) => p.metadata?.uid === status.uid)) return;
    if (!pod) {
      this.metrics.refusedMessages.inc({ reason: 'foreignPod' });
      this.log.warn({ node: nodeName, uid: status.uid }, 'agent reported status for a pod not bound to its node; ignored');
      return;
    }
    // Bound there but never sent (refused, not admitted, or waiting on a Secret): nothing runs it.
    if (!this.sent.get(nodeName)?.has(status.uid)) {
      this.metrics.refusedMessages.inc({ reason: 'podNotSent' });
      return;
    }
    // The provider's write budget. A newer report that came meanwhile is written instead (next, by
    // statusReported's loop): over budget, only the newest of a burst is written.
    await this.budgets.of(nodeName).removeTokens(1);
    if (this.statusWrites.get(status.uid)?.next) return;
    if (status.deleted) {
      if (!pod.metadata?.deletionTimestamp) return;
      // The containers are gone: finish the deletion the user asked for, as the kubelet does.
      // Grace 0 goes in the body: client-node drops a zero-valued query parameter.
      await this.core
        .deleteNamespacedPod({ name: pod.metadata.name!, namespace: pod.metadata.namespace!, body: { gracePeriodSeconds: 0, preconditions: { uid: status.uid } } })
        .catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      return;
    }
    const next = toKubernetesStatus(status, pod, this.hostIP);
    const wasReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    const isReady = next.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    if (isReady && !wasReady && pod.metadata?.creationTimestamp) {
      this.metrics.podStartSeconds.observe((Date.now() - new Date(pod.metadata.creationTimestamp).getTime()) / 1000);
    }
    await this.patchStatus(pod, next);
    const tailnetAddress = status.tailnetAddress ? acceptedTailnetAddress(status.tailnetAddress) : undefined;
    for (const [what, reported, accepted] of [['pod IP', status.podIp, next.podIP], ['tailnet address', status.tailnetAddress, tailnetAddress]] as const) {
      if (!reported || accepted) continue;
      this.metrics.refusedMessages.inc({ reason: 'badAddress' });
      this.log.warn({ node: nodeName, pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`, reported }, `agent reported a ${what} it may not give; left out`);
    }
    await recordTailnetAddress(this.core, pod, tailnetAddress).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }

  async eventReported(nodeName: string, event: PodEvent): Promise<void> {
    const pod = this.ownPod(nodeName, event.podUid);
    if (!pod) {
      this.metrics.refusedMessages.inc({ reason: 'foreignPod' });
      return;
    }
    if (!this.budgets.of(nodeName).tryRemoveTokens(1)) {
      this.metrics.refusedMessages.inc({ reason: 'rateLimited' });
      return;
    }
    await this.events.record(podTarget(pod), event.type, event.reason, event.message);
  }

  private async patchStatus(pod: k8s.V1Pod, status: k8s.V1PodStatus): Promise<void> {
    try {
      // A merge patch replaces each list whole: the agent's report is the complete truth.
      await this.core.patchNamespacedPodStatus(
        { name: pod.metadata!.name!, namespace: pod.metadata!.namespace!, body: { metadata: { uid: pod.metadata!.uid }, status } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
