// The pods of this node with `expose: tailnet` ports: each gets its own tailnet node once it runs
// and has an address, and its reported status carries the node's tailnet address (the gateway
// records it on the pod, the Workload controller shows it in status.endpoints).
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Gauge } from 'prom-client';
import type { Logger } from 'pino';
import type { Pod, PodEvent, PodStatus } from '@lattice/protocol';
import { type RunningNode, type TailnetNodeSpec, TailnetBinaryMissing, startTailnetNode } from './node.js';

export interface TailnetOptions {
  /** The lattice-tailnet executable (a path, or a name looked up on PATH). */
  binary: string;
  /** The agent's state directory: nodes keep their state under <stateDir>/tailnet/<pod uid>. */
  stateDir: string;
  logger: Logger;
  /** Reports a pod's status again when its tailnet address changes. */
  report: (status: PodStatus) => void;
  event: (event: PodEvent) => void;
  /** Pods whose tailnet node is up. */
  up: Gauge;
}

/** How long after a failure a node is started again. */
export const RETRY_MS = 30_000;

interface Exposure {
  tailnet?: NonNullable<Pod['tailnet']>;
  /** The last status the runtime reported, as given (without the tailnet address). */
  status?: PodStatus;
  /** The spec the running (or starting) node was started with, as a comparable key. */
  key?: string;
  node?: RunningNode;
  starting?: boolean;
  retry?: NodeJS.Timeout;
}

export class TailnetExposures {
  private readonly pods = new Map<string, Exposure>();

  constructor(private readonly options: TailnetOptions) {}

  /** The pod as the gateway gave it: whether (and how) it wants tailnet ports. */
  want(pod: Pod): void {
    const exposure = this.exposure(pod.uid);
    exposure.tailnet = pod.tailnet ?? undefined;
    this.reconcile(pod.uid);
  }

  /** A status the runtime reports: returned with the tailnet address, and a node started if due. */
  observe(status: PodStatus): PodStatus {
    if (status.deleted) return status;
    // Kept for every pod: an adopted pod may report before the gateway gives it back (want).
    const exposure = this.exposure(status.uid);
    exposure.status = status;
    this.reconcile(status.uid);
    return withAddress(status, exposure);
  }

  /** The pod is gone from this node: its node stops and its state goes. */
  async drop(uid: string): Promise<void> {
    const exposure = this.pods.get(uid);
    if (!exposure) return;
    this.pods.delete(uid);
    this.halt(exposure);
    await rm(this.stateDir(uid), { recursive: true, force: true });
  }

  /** The agent stops: nodes stop, their state stays for the next agent. */
  stop(): void {
    for (const exposure of this.pods.values()) this.halt(exposure);
    this.pods.clear();
  }

  private exposure(uid: string): Exposure {
    let exposure = this.pods.get(uid);
    if (!exposure) {
      exposure = {};
      this.pods.set(uid, exposure);
    }
    return exposure;
  }

  private stateDir(uid: string): string {
    return path.join(this.options.stateDir, 'tailnet', uid);
  }

  /** Runs the node the pod wants, with its current address; none when it wants none. */
  private reconcile(uid: string): void {
    const exposure = this.pods.get(uid);
    if (!exposure || exposure.starting) return;
    const spec = this.spec(uid, exposure);
    const key = spec && createHash('sha256').update(JSON.stringify(spec)).digest('hex');
    if (key === exposure.key && (exposure.node || exposure.retry)) return;
    this.halt(exposure);
    if (!spec || !key) return;
    exposure.key = key;
    exposure.starting = true;
    const log = this.options.logger.child({ pod: uid, hostname: spec.hostname });
    startTailnetNode(this.options.binary, spec, log).then(
      (node) => {
        exposure.starting = false;
        if (this.pods.get(uid) !== exposure || exposure.key !== key) {
          node.stop();
          return this.reconcile(uid);
        }
        exposure.node = node;
        this.options.up.inc();
        log.info({ ips: node.joined.ips, dnsName: node.joined.dnsName, ports: spec.forwards.map((f) => f.port) }, 'pod is on its tailnet');
        this.event(uid, 'Normal', 'TailnetJoined', `Reachable on the tailnet at ${node.joined.ips[0]} (${node.joined.dnsName}), ports ${spec.forwards.map((f) => f.port).join(', ')}.`);
        this.reportAgain(exposure);
        void node.exited.then(() => {
          if (exposure.node !== node) return;
          this.options.up.dec();
          exposure.node = undefined;
          this.event(uid, 'Warning', 'TailnetLeft', 'The tailnet node stopped unexpectedly; it is started again shortly.');
          this.reportAgain(exposure);
          this.retryLater(uid, exposure);
        });
      },
      (err: Error) => {
        exposure.starting = false;
        if (this.pods.get(uid) !== exposure) return;
        const reason = err instanceof TailnetBinaryMissing ? 'TailnetUnavailable' : 'TailnetFailed';
        log.warn({ reason, err: err.message }, 'pod could not join its tailnet');
        this.event(uid, 'Warning', reason, `${err.message}. Retrying in ${RETRY_MS / 1000} s.`);
        this.retryLater(uid, exposure);
      },
    );
  }

  private retryLater(uid: string, exposure: Exposure): void {
    exposure.retry = setTimeout(() => {
      exposure.retry = undefined;
      exposure.key = undefined;
      this.reconcile(uid);
    }, RETRY_MS);
    exposure.retry.unref();
  }

  /** What the node must be now: none until the pod runs with an address. */
  private spec(uid: string, exposure: Exposure): TailnetNodeSpec | undefined {
    const { tailnet, status } = exposure;
    if (!tailnet || tailnet.ports.length === 0 || status?.phase !== 'Running' || !status.podIp) return undefined;
    return {
      loginServer: tailnet.loginServer,
      authKey: tailnet.authKey,
      hostname: tailnet.hostname,
      forwards: tailnet.ports.map((port) => ({ port, target: `${status.podIp}:${port}` })),
      stateDir: this.stateDir(uid),
    };
  }

  private halt(exposure: Exposure): void {
    if (exposure.retry) clearTimeout(exposure.retry);
    exposure.retry = undefined;
    exposure.key = undefined;
    const node = exposure.node;
    if (!node) return;
    exposure.node = undefined;
    this.options.up.dec();
    node.stop();
    this.reportAgain(exposure);
  }

  private reportAgain(exposure: Exposure): void {
    if (exposure.status) this.options.report(withAddress(exposure.status, exposure));
  }

  private event(podUid: string, type: PodEvent['type'], reason: string, message: string): void {
    this.options.event({ podUid, type, reason, message });
  }
}

function withAddress(status: PodStatus, exposure: Exposure): PodStatus {
  return { ...status, tailnetAddress: exposure.node?.joined.ips[0] ?? '' };
}
