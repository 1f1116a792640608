// Simulated provider agents (in the spirit of KWOK): many nodes in one process, each joined
// through the real join flow (a join token, a CSR, the gateway's Join RPC) and speaking the real
// gRPC protocol over its own mutual-TLS connection, but with no container runtime: every pod the
// gateway sends is reported Running and Ready at once, and every delete is confirmed at once.
// They let a benchmark load the operator and gateway with many nodes and pods on a small machine.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  GatewayMessageSchema,
  PROTOCOL_VERSION,
  gatewayClient,
  type AgentMessage,
  type GatewayClient,
  type GatewayMessage,
  type Offer,
  type Pod,
  type PodStatus,
} from '@lattice/protocol';
import { join } from '../../agent/src/join.js';
import type { Identity } from '../../agent/src/identity.js';

export interface SimulatedFleetOptions {
  /** host:port of the gateway. */
  gateway: string;
  /** A join token good for `count` joins (`lattice token create --uses N`). */
  token: string;
  count: number;
  /** Node names are <prefix>-<index>. */
  namePrefix: string;
  /** What each node offers; its labels select the fleet. */
  offer: Offer;
  /** Joins and connections made at the same time. */
  concurrency?: number;
}

/** One simulated node: an identity, a connection, and the pods it pretends to run. */
export class SimulatedAgent {
  readonly pods = new Map<string, Pod>();
  connected = false;
  private client?: GatewayClient;
  private call?: grpc.ClientDuplexStream<unknown, unknown>;
  private stopped = false;

  constructor(
    readonly identity: Identity,
    private readonly offer: Offer,
    private readonly podIpPrefix: string,
  ) {}

  get nodeName(): string {
    return this.identity.nodeName;
  }

  /** Dials the gateway and says Hello; resolves once the gateway welcomed this node. */
  connect(): Promise<void> {
    const { identity } = this;
    const credentials = grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certificatePem));
    this.client = gatewayClient(identity.gateway, credentials, { 'grpc.keepalive_time_ms': 20_000, 'grpc.keepalive_timeout_ms': 10_000 });
    const call = this.client.Connect();
    this.call = call;
    return new Promise((resolve, reject) => {
      call.on('data', (raw: unknown) => {
        const parsed = GatewayMessageSchema.safeParse(raw);
        if (!parsed.success) return;
        if (parsed.data.msg === 'welcome') {
          this.connected = true;
          resolve();
          return;
        }
        this.handle(parsed.data);
      });
      call.on('error', () => undefined);
      call.on('status', (status: grpc.StatusObject) => {
        this.connected = false;
        if (!this.stopped) reject(new Error(`${this.nodeName}: the gateway ended the stream (${status.code}: ${status.details})`));
      });
      this.send({
        msg: 'hello',
        hello: {
          protocolVersion: PROTOCOL_VERSION,
          agentVersion: 'simulated',
          offer: this.offer,
          // Takes every podSync whole, as an agent older than the feature does.
          features: [],
          system: {
            os: 'simulated',
            architecture: 'amd64',
            kernelVersion: 'simulated',
            containerRuntimeVersion: 'simulated://0',
            machineCpuMillis: this.offer.cpuMillis,
            machineMemoryBytes: this.offer.memoryBytes,
          },
        },
      });
    });
  }

  stop(): void {
    this.stopped = true;
    this.call?.end();
    this.call?.cancel();
    this.client?.close();
  }

  private send(msg: AgentMessage): void {
    this.call?.write(msg);
  }

  private handle(msg: GatewayMessage): void {
    switch (msg.msg) {
      case 'podSync': {
        const wanted = new Set(msg.podSync.pods.map((p) => p.uid));
        for (const uid of [...this.pods.keys()]) if (!wanted.has(uid)) this.pods.delete(uid);
        for (const pod of msg.podSync.pods) this.run(pod);
        return;
      }
      case 'podUpsert':
        this.run(msg.podUpsert);
        return;
      case 'podDelete':
        this.pods.delete(msg.podDelete.uid);
        this.send({
          msg: 'podStatus',
          podStatus: { uid: msg.podDelete.uid, phase: 'Pending', reason: '', message: '', podIp: '', startTime: '', initContainerStatuses: [], containerStatuses: [], deleted: true },
        });
        return;
      case 'openStream':
        this.send({ msg: 'streamEnd', streamEnd: { streamId: msg.openStream.streamId, error: 'a simulated node has no containers to stream', exitCode: undefined } });
        return;
      default:
        return;
    }
  }

  /** "Runs" the pod: init containers done, every container running and ready. */
  private run(pod: Pod): void {
    this.pods.set(pod.uid, pod);
    const now = new Date().toISOString();
    const status = (name: string, image: string, done: boolean): PodStatus['containerStatuses'][number] => ({
      name,
      state: done
        ? { state: 'terminated', terminated: { exitCode: 0, reason: 'Completed', message: '', startedAt: now, finishedAt: now } }
        : { state: 'running', running: { startedAt: now } },
      ready: !done,
      started: !done,
      restartCount: 0,
      image,
      imageId: `simulated://${image}`,
      containerId: `simulated://${pod.uid}/${name}`,
    });
    this.send({
      msg: 'podStatus',
      podStatus: {
        uid: pod.uid,
        phase: 'Running',
        reason: '',
        message: '',
        podIp: `${this.podIpPrefix}.${(this.pods.size % 250) + 1}`,
        startTime: now,
        initContainerStatuses: pod.initContainers.map((c) => status(c.name, c.image, true)),
        containerStatuses: pod.containers.map((c) => status(c.name, c.image, false)),
        deleted: false,
      },
    });
  }
}

/** Runs `task` over `items`, at most `limit` at a time; every task settles before the first error is thrown. */
async function pooled<T, R>(items: T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  const errors: unknown[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length && errors.length === 0) {
        const i = next++;
        try {
          results[i] = await task(items[i]!, i);
        } catch (err) {
          errors.push(err);
        }
      }
    }),
  );
  if (errors.length) throw errors[0];
  return results;
}

/** The gateway refuses a join that lost too many races for the token's use count, and says to retry. */
async function joinWithRetry(options: Parameters<typeof join>[0]): Promise<Identity> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await join(options);
    } catch (err) {
      if (attempt >= 10 || !/try again/.test((err as Error).message)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100));
    }
  }
}

export class SimulatedFleet {
  private constructor(
    readonly agents: SimulatedAgent[],
    private readonly stateRoot: string,
  ) {}

  /** Joins `count` nodes with the token and connects each; resolves when all are welcomed. */
  static async start(options: SimulatedFleetOptions): Promise<SimulatedFleet> {
    const stateRoot = await mkdtemp(path.join(os.tmpdir(), 'lattice-simulated-'));
    const fleet = new SimulatedFleet([], stateRoot);
    try {
      const indexes = Array.from({ length: options.count }, (_, i) => i);
      await pooled(indexes, options.concurrency ?? 10, async (i) => {
        const identity = await joinWithRetry({
          gateway: options.gateway,
          token: options.token,
          nodeName: `${options.namePrefix}-${i}`,
          stateDir: path.join(stateRoot, String(i)),
        });
        const agent = new SimulatedAgent(identity, options.offer, `10.${200 + Math.floor(i / 250)}.${i % 250}`);
        fleet.agents.push(agent);
        await agent.connect();
      });
      return fleet;
    } catch (err) {
      await fleet.stop();
      throw err;
    }
  }

  get nodeNames(): string[] {
    return this.agents.map((a) => a.nodeName);
  }

  /** Pods the fleet pretends to run, all nodes together. */
  get podCount(): number {
    return this.agents.reduce((n, a) => n + a.pods.size, 0);
  }

  async stop(): Promise<void> {
    for (const agent of this.agents) agent.stop();
    await rm(this.stateRoot, { recursive: true, force: true });
  }
}
