// Meters each connected provider from the cluster's side: every interval, the requests of the
// Running pods bound to its node (from the gateway's pod informer) accrue to its ledger at the
// published prices, and the node's agent is sent its Earnings. The ledger is a ConfigMap per node
// in the gateway namespace, written at most every PERSIST_EVERY_MS and on stop, so an operator
// restart or a leader change loses at most that much. Only connected time counts: the interval
// in which a node was away (or the gateway was down) is never billed.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Earnings } from '@lattice/protocol';
import { isNotFound } from '../kube/errors.js';
import { accrue, emptyUsage, NodeUsageSchema, reservedBy, toEarnings, totalMicros, type NodeUsage } from './ledger.js';
import { Pricing } from './pricing.js';

const PERSIST_EVERY_MS = 30_000;
const FIELD_MANAGER = 'lattice-gateway-usage';
const DATA_KEY = 'usage.json';

export const usageConfigMapName = (node: string) => `lattice-usage-${node}`;

export interface UsageMeterOptions {
  core: k8s.CoreV1Api;
  /** The gateway namespace: price list and ledgers. */
  namespace: string;
  intervalMs: number;
  /** Nodes whose agent is connected now. */
  connectedNodes: () => string[];
  /** Pods bound to a node, from the informer cache. */
  podsOf: (node: string) => k8s.V1Pod[];
  /** Sends a node's agent its earnings; false if it is not connected. */
  send: (node: string, earnings: Earnings) => boolean;
  log: Logger;
  registry: Registry;
}

interface Ledger {
  usage: NodeUsage;
  /** When the node was last metered while connected; undefined after a gap. */
  meteredAt?: Date;
  persistedAt: number;
  dirty: boolean;
}

export class UsageMeter {
  private readonly ledgers = new Map<string, Ledger>();
  private readonly pricing: Pricing;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private readonly metrics: { reservedCpu: Gauge; reservedMemory: Gauge; earned: Counter };

  constructor(private readonly options: UsageMeterOptions) {
    this.pricing = new Pricing(options.core, options.namespace, options.log);
    const registers = [options.registry];
    this.metrics = {
      reservedCpu: new Gauge({ name: 'lattice_usage_reserved_cpu_millis', help: 'CPU reserved by Running pods on each connected node', labelNames: ['node'], registers }),
      reservedMemory: new Gauge({ name: 'lattice_usage_reserved_memory_bytes', help: 'Memory reserved by Running pods on each connected node', labelNames: ['node'], registers }),
      earned: new Counter({ name: 'lattice_usage_earned_micros_total', help: 'Earnings accrued by this gateway, in millionths of the currency', labelNames: ['node'], registers }),
    };
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    await Promise.all([...this.ledgers.keys()].map((node) => this.persist(node).catch((err) => this.options.log.warn({ err, node }, 'saving usage failed'))));
  }

  /** A node's agent (re)connected: metering starts now, and it gets what it has earned so far. */
  async connected(node: string): Promise<void> {
    const ledger = await this.ledger(node);
    ledger.meteredAt = new Date();
    this.options.send(node, toEarnings(ledger.usage, await this.pricing.read(), new Date()));
  }

  private tick(): Promise<void> {
    if (this.ticking) return this.ticking; // a slow apiserver: skip rather than pile up
    this.ticking = this.meterAll()
      .catch((err) => this.options.log.warn({ err }, 'metering failed'))
      .finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async meterAll(): Promise<void> {
    const prices = await this.pricing.read();
    const now = new Date();
    const connected = new Set(this.options.connectedNodes());
    for (const [node, ledger] of this.ledgers) if (!connected.has(node)) ledger.meteredAt = undefined;
    for (const node of connected) {
      const ledger = await this.ledger(node);
      const reserved = reservedBy(this.options.podsOf(node));
      this.metrics.reservedCpu.set({ node }, reserved.cpuMillis);
      this.metrics.reservedMemory.set({ node }, reserved.memoryBytes);
      if (ledger.meteredAt) {
        const before = totalMicros(ledger.usage);
        ledger.usage = accrue(ledger.usage, reserved, ledger.meteredAt, now, prices);
        this.metrics.earned.inc({ node }, totalMicros(ledger.usage) - before);
        ledger.dirty = true;
      }
      ledger.meteredAt = now;
      if (ledger.dirty && now.getTime() - ledger.persistedAt >= PERSIST_EVERY_MS) await this.persist(node);
      this.options.send(node, toEarnings(ledger.usage, prices, now));
    }
  }

  /** The node's ledger, read back from its ConfigMap the first time. */
  private async ledger(node: string): Promise<Ledger> {
    let ledger = this.ledgers.get(node);
    if (ledger) return ledger;
    const cm = await this.options.core.readNamespacedConfigMap({ name: usageConfigMapName(node), namespace: this.options.namespace }).catch((err) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    let usage = emptyUsage();
    const text = cm?.data?.[DATA_KEY];
    if (text) {
      const parsed = NodeUsageSchema.safeParse(JSON.parse(text));
      // A ledger we cannot read is kept aside, not overwritten: someone must look at it.
      if (!parsed.success) throw new Error(`ConfigMap ${usageConfigMapName(node)} holds an unreadable ledger: ${parsed.error.issues[0]?.message}`);
      usage = parsed.data;
    }
    ledger = this.ledgers.get(node) ?? { usage, persistedAt: 0, dirty: false };
    this.ledgers.set(node, ledger);
    return ledger;
  }

  private async persist(node: string): Promise<void> {
    const ledger = this.ledgers.get(node);
    if (!ledger?.dirty) return;
    const body: k8s.V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: usageConfigMapName(node),
        namespace: this.options.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'lattice-gateway', 'app.kubernetes.io/component': 'usage', 'lattice.dev/node': node },
      },
      data: { [DATA_KEY]: JSON.stringify(ledger.usage) },
    };
    await this.options.core.patchNamespacedConfigMap(
      { name: usageConfigMapName(node), namespace: this.options.namespace, body, fieldManager: FIELD_MANAGER, force: true },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.ServerSideApply),
    );
    ledger.persistedAt = Date.now();
    ledger.dirty = false;
  }
}
