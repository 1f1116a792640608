// The Node object and node Lease of one provider, kept true while its agent is connected.
//
// The gateway plays the kubelet's part for the API: it registers the Node (labels, the provider
// taint, capacity = what the provider offers, addresses pointing at the gateway's kubelet API),
// renews the Lease in kube-node-lease, and says Ready=False itself when the agent's stream has
// been gone for the grace period, so the node-lifecycle controller reacts at once instead of
// after its own, longer timeout. Scheduling and eviction stay Kubernetes' job.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Hello, Offer } from '@lattice/protocol';
import { isNotFound } from '../kube/errors.js';
import { availabilityTaints, type AvailabilityState } from './availability.js';
import { offeredCapacity } from './admission.js';

export const PROVIDER_TAINT: k8s.V1Taint = { key: 'lattice.dev/provider', value: 'true', effect: 'NoSchedule' };
export const PROVIDER_LABEL = 'lattice.dev/provider';
/** Labels a provider may set on its own Node; anything else it sends is ignored. */
const PROVIDER_LABEL_KEYS = /^(topology\.kubernetes\.io\/(region|zone)|provider\.lattice\.dev\/[a-z0-9A-Z._-]{1,63})$/;
const LEASE_DURATION_SECONDS = 40;
const LEASE_RENEW_MS = 10_000;
const HEARTBEAT_MS = 60_000;
const FIELD_MANAGER = 'lattice-gateway';

export interface KubeletEndpoint {
  address: string;
  port: number;
}

export function providerLabels(offer: Offer): Record<string, string> {
  return Object.fromEntries(Object.entries(offer.labels).filter(([k]) => PROVIDER_LABEL_KEYS.test(k)));
}

/** Capacity as Kubernetes quantities. */
export function offeredResources(offer: Offer): Record<string, string> {
  const { cpuMillis, memoryBytes, pods } = offeredCapacity(offer);
  // Whole kibibytes, so the apiserver shows memory in binary units (1Gi, not 1073741824).
  const kibibytes = (bytes: number) => `${Math.floor(bytes / 1024)}Ki`;
  return { cpu: `${cpuMillis}m`, memory: kibibytes(memoryBytes), pods: String(pods), ...(offer.diskBytes > 0 && { 'ephemeral-storage': kibibytes(offer.diskBytes) }) };
}

export class VirtualNode {
  private leaseTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  private hello?: Hello;
  private offer?: Offer;
  private availability: AvailabilityState = { available: true, drain: false };

  constructor(
    readonly name: string,
    private readonly core: k8s.CoreV1Api,
    private readonly coordination: k8s.CoordinationV1Api,
    private readonly kubelet: KubeletEndpoint,
    private readonly log: Logger,
  ) {}

  /** The agent connected (or said Hello again): register the Node Ready and start the Lease. */
  async connected(hello: Hello): Promise<void> {
    this.hello = hello;
    this.offer = hello.offer;
    await this.applyNode();
    await this.setReady(true, 'AgentConnected', 'the provider agent is connected to the gateway');
    await this.renewLease();
    clearInterval(this.leaseTimer);
    clearInterval(this.heartbeatTimer);
    this.leaseTimer = setInterval(() => void this.renewLease().catch((err) => this.log.warn({ err }, 'lease renewal failed')), LEASE_RENEW_MS);
    this.heartbeatTimer = setInterval(
      () => void this.setReady(true, 'AgentConnected', 'the provider agent is connected to the gateway').catch((err) => this.log.warn({ err }, 'heartbeat failed')),
      HEARTBEAT_MS,
    );
  }

  /** The provider changed what it offers: capacity, labels and availability follow. */
  async offerChanged(offer: Offer): Promise<void> {
    this.offer = offer;
    await this.applyNode();
  }

  async availabilityChanged(state: AvailabilityState): Promise<void> {
    const changed = state.available !== this.availability.available || state.drain !== this.availability.drain;
    this.availability = state;
    if (changed && this.offer) await this.applyNode();
  }

  /** The stream stayed gone for the grace period: stop the Lease and say NotReady. */
  async lost(): Promise<void> {
    this.stopTimers();
    await this.setReady(false, 'AgentDisconnected', 'the provider agent lost its connection to the gateway');
  }

  stopTimers(): void {
    clearInterval(this.leaseTimer);
    clearInterval(this.heartbeatTimer);
    this.leaseTimer = this.heartbeatTimer = undefined;
  }

  /** Server-side apply of the Node's metadata and spec; the gateway owns exactly these fields. */
  private async applyNode(): Promise<void> {
    const offer = this.offer!;
    const system = this.hello?.system;
    const node: k8s.V1Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: this.name,
        labels: {
          ...providerLabels(offer),
          type: 'virtual-kubelet',
          [PROVIDER_LABEL]: 'true',
          'kubernetes.io/hostname': this.name,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': system?.architecture || 'amd64',
          'node.kubernetes.io/instance-type': 'lattice-provider',
        },
      },
      spec: { taints: [PROVIDER_TAINT, ...availabilityTaints(this.availability)] },
    };
    await this.core.patchNode(
      { name: this.name, body: node, fieldManager: FIELD_MANAGER, force: true },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );
    await this.core.patchNodeStatus(
      { name: this.name, body: { apiVersion: 'v1', kind: 'Node', metadata: { name: this.name }, status: this.staticStatus() }, fieldManager: FIELD_MANAGER, force: true },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );
  }

  private staticStatus(): k8s.V1NodeStatus {
    const offer = this.offer!;
    const system = this.hello?.system;
    const resources = offeredResources(offer);
    return {
      capacity: resources,
      allocatable: resources,
      addresses: [
        { type: 'InternalIP', address: this.kubelet.address },
        { type: 'Hostname', address: this.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.kubelet.port } },
      nodeInfo: {
        architecture: system?.architecture || 'amd64',
        operatingSystem: 'linux',
        osImage: system?.os || 'unknown',
        kernelVersion: system?.kernelVersion || 'unknown',
        containerRuntimeVersion: system?.containerRuntimeVersion || 'docker://unknown',
        kubeletVersion: `v1.35.4-lattice.${(this.hello?.agentVersion || '0').replace(/[^0-9A-Za-z.-]/g, '-')}`,
        kubeProxyVersion: '',
        machineID: this.name,
        systemUUID: this.name,
        bootID: '',
      },
    };
  }

  private async setReady(ready: boolean, reason: string, message: string): Promise<void> {
    const now = new Date();
    const condition = (type: string, status: string, why: string, text: string): k8s.V1NodeCondition => ({
      type,
      status,
      reason: why,
      message: text,
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    });
    // The transition time must only move when the status does: keep the stored one otherwise.
    const current = await this.core.readNodeStatus({ name: this.name }).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!current) return;
    const previous = new Map((current.status?.conditions ?? []).map((c) => [c.type, c]));
    const keepTransition = (c: k8s.V1NodeCondition): k8s.V1NodeCondition => {
      const before = previous.get(c.type);
      return before?.status === c.status && before.lastTransitionTime ? { ...c, lastTransitionTime: before.lastTransitionTime } : c;
    };
    const readyStatus = ready ? 'True' : 'False';
    const conditions = [
      condition('Ready', readyStatus, reason, message),
      condition('MemoryPressure', ready ? 'False' : 'Unknown', ready ? 'ProviderHasSufficientMemory' : reason, ready ? 'the provider offers memory' : message),
      condition('DiskPressure', ready ? 'False' : 'Unknown', ready ? 'ProviderHasNoDiskPressure' : reason, ready ? 'the provider has disk' : message),
      condition('PIDPressure', ready ? 'False' : 'Unknown', ready ? 'ProviderHasSufficientPID' : reason, ready ? 'the provider has PIDs' : message),
    ].map(keepTransition);
    await this.core.patchNodeStatus(
      { name: this.name, body: { status: { conditions } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
  }

  private async renewLease(): Promise<void> {
    const now = new k8s.V1MicroTime();
    const spec: k8s.V1LeaseSpec = { holderIdentity: this.name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: now };
    try {
      const lease = await this.coordination.readNamespacedLease({ name: this.name, namespace: 'kube-node-lease' });
      await this.coordination.replaceNamespacedLease({
        name: this.name,
        namespace: 'kube-node-lease',
        body: { ...lease, spec: { ...lease.spec, ...spec } },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      const node = await this.core.readNode({ name: this.name });
      await this.coordination.createNamespacedLease({
        namespace: 'kube-node-lease',
        body: {
          metadata: {
            name: this.name,
            // Owned by the Node, like the kubelet's: deleting the Node removes its Lease.
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: this.name, uid: node.metadata!.uid! }],
          },
          spec,
        },
      });
    }
  }
}
