// The agent's one connection to the gateway: dial out with mutual TLS, say Hello, then serve
// the stream for as long as it lasts; when it drops, dial again with exponential backoff and
// jitter (so a gateway restart is not met by every agent in the same second). Every message
// from the gateway is validated before it reaches the runtime.
import { EventEmitter, once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  GatewayMessageSchema,
  AGENT_FEATURES,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  gatewayClient,
  type AgentMessage,
  type Earnings,
  type ExecOptions,
  type GatewayClient,
  type GatewayMessage,
  type LogOptions,
  type Offer,
  type OpenStream,
  type Pod,
  type PodEvent,
  type PodStatus,
  type SystemInfo,
  type Welcome,
} from '@lattice/protocol';
import type { Identity } from './identity.js';
import { renewIdentity, renewalTimes } from './renewal.js';
import { LocalPods } from './local-pods.js';
import { ImageNames } from './registry/image-names.js';
import type { ServiceAddresses } from './runtime/networks.js';
import { ServiceListeners } from './tunnels/services.js';
import { AgentTunnels } from './tunnels/tunnels.js';

/** What the connection needs of the container runtime (DockerRuntime implements it). */
export interface PodRuntime {
  /** The whole set the node runs: `pods`, and `kept` left as they are (PodSync.kept). */
  sync(pods: Pod[], kept: readonly string[]): Promise<void>;
  upsert(pod: Pod): Promise<void>;
  remove(uid: string, gracePeriodSeconds: number): Promise<void>;
  logs(uid: string, container: string, options: LogOptions, signal: AbortSignal): AsyncIterable<{ channel: 1 | 2; data: Buffer }>;
  exec(uid: string, container: string, options: ExecOptions): ExecSession;
  /** Where a port of one of this node's pods is; throws for any other pod. */
  dialAddress(uid: string, port: number): { host: string; port: number };
  /** Gives a namespace's Services their addresses on its network here (where they are listened for), if it has one. */
  serviceAddresses(namespace: string, names: string[]): Promise<ServiceAddresses | undefined>;
  /** The Services of a namespace changed: its pods' /etc/hosts are written again. */
  servicesChanged(namespace: string): void;
  deleteVolume(name: string): Promise<void>;
}

export interface ExecSession {
  write(data: Buffer): void;
  end(): void;
  resize(width: number, height: number): void;
  output: AsyncIterable<{ channel: 1 | 2; data: Buffer }>;
  exit: Promise<number>;
}

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

const CHUNK = 64 * 1024;
// Dials again soon after an outage of any length: a gateway back up is answered within ~2 s
// (1 to 2 s apart with jitter, so a restarted gateway is not met by every agent at once).
const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 2_000;
// A dial whose TCP and TLS handshakes take longer than this is given up and made again on a new
// connection. grpc-js has no connect timeout of its own, and a SYN that a load balancer or a
// NodePort sent to a gateway pod that has just gone keeps going there for minutes (the
// connection's conntrack entry outlives the endpoint): a new connection is balanced afresh.
const CONNECT_TIMEOUT_MS = 4_000;

export interface ConnectionOptions {
  identity: Identity;
  /** Keeps a renewed identity (the state directory), before it is used. */
  saveIdentity: (identity: Identity) => Promise<void>;
  runtime: PodRuntime;
  offer: () => Offer;
  system: SystemInfo;
  agentVersion: string;
  /** Where this machine's engine reaches the cluster registry through the agent (registry/relay.ts), host:port. */
  registryRelay: string;
  log: Logger;
}

/**
 * Emits 'state' (ConnectionState), 'welcome' (Welcome, with images named as this machine pulls
 * them) and 'refused' (a permanent refusal, e.g. a revoked node).
 */
export class GatewayConnection extends EventEmitter {
  private client?: GatewayClient;
  private call?: grpc.ClientDuplexStream<unknown, unknown>;
  private stopped = false;
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private readonly statuses = new Map<string, PodStatus>();
  private readonly streams = new Map<string, { abort: AbortController; exec?: ExecSession }>();
  /** The node's identity now: the one it joined with, then each renewed one. */
  private identity: Identity;
  private renewalTimer?: NodeJS.Timeout;
  private readonly tunnels: AgentTunnels;
  private readonly services: ServiceListeners;
  state: ConnectionState = 'disconnected';
  /** The pods bound to this node, for the admin API. */
  readonly pods = new LocalPods();
  /** The parts of a podSync received so far on this connection (see FEATURES.chunkedPodSync). */
  private syncParts: Pod[] = [];
  /** What this node has earned, as the gateway last metered it. */
  earnings?: Earnings;
  /** How the cluster registry's images are named here, once the gateway named that registry. */
  private names?: ImageNames;

  constructor(private readonly options: ConnectionOptions) {
    super();
    this.identity = options.identity;
    const transport = {
      send: (msg: AgentMessage) => this.send(msg),
      drained: async () => {
        if (this.call) await once(this.call, 'drain');
      },
    };
    this.tunnels = new AgentTunnels(transport, (uid, port) => options.runtime.dialAddress(uid, port), options.log.child({ part: 'tunnels' }));
    this.services = new ServiceListeners({
      tunnels: this.tunnels,
      send: (msg) => this.send(msg),
      connected: () => this.state === 'connected',
      addresses: (namespace, names) => options.runtime.serviceAddresses(namespace, names),
      hostsChanged: (namespace) => options.runtime.servicesChanged(namespace),
      log: options.log.child({ part: 'services' }),
    });
  }

  start(): void {
    this.dial();
  }

  /**
   * A channel of its own for each dial (grpc-js would share one connection between channels to the
   * same address): a new connection, not one grpc-js keeps trying to re-establish, so that our
   * backoff and CONNECT_TIMEOUT_MS decide when and how the gateway is dialled again.
   */
  private newClient(): GatewayClient {
    const { identity } = this;
    this.client?.close();
    const credentials = grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certificatePem));
    this.client = gatewayClient(identity.gateway, credentials, {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.use_local_subchannel_pool': 1,
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    });
    return this.client;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.services.close();
    clearTimeout(this.retryTimer);
    clearTimeout(this.renewalTimer);
    this.endStreams();
    this.call?.end();
    this.call?.cancel();
    this.client?.close();
    this.setState('stopped');
  }

  /** The /etc/hosts lines of a namespace's Services, for a pod about to start there. */
  serviceHosts(namespace: string): Promise<string[]> {
    return this.services.hostsFor(namespace);
  }

  /** One Registry call on this node's channel (for the registry relay). */
  registryCall(): grpc.ClientDuplexStream<unknown, unknown> {
    if (!this.client) throw new Error('the agent is not started');
    return this.client.Registry();
  }

  /** The runtime observed a pod's status: pass it on now, and remember it for a reconnect. */
  podStatus(observed: PodStatus): void {
    const status = this.names ? this.names.status(observed) : observed;
    this.pods.status(status);
    if (status.deleted) this.statuses.delete(status.uid);
    else this.statuses.set(status.uid, status);
    this.send({ msg: 'podStatus', podStatus: status });
  }

  podEvent(event: PodEvent): void {
    const message = this.names ? this.names.text(event.message) : event.message;
    this.send({ msg: 'podEvent', podEvent: { ...event, message } });
  }

  /** The provider changed its offer: the gateway updates the Node without a re-join. */
  offerChanged(): void {
    this.send({ msg: 'offer', offer: this.options.offer() });
  }

  /** Renews the node certificate when it is due (renewal.ts), while connected. */
  private scheduleRenewal(): void {
    clearTimeout(this.renewalTimer);
    const { due, notAfter } = renewalTimes(this.identity.certificatePem);
    // setTimeout takes at most ~24.8 days: a later renewal is scheduled again when that one fires.
    const wait = Math.min(Math.max(due.getTime() - Date.now(), 0), 2 ** 31 - 1);
    this.renewalTimer = setTimeout(() => {
      if (Date.now() < due.getTime()) return this.scheduleRenewal();
      void this.renew(notAfter);
    }, wait);
    this.renewalTimer.unref();
  }

  private async renew(notAfter: Date): Promise<void> {
    const { log } = this.options;
    const call = this.call;
    if (this.state !== 'connected' || !this.client || !call) return; // scheduled again once connected
    try {
      const renewed = await renewIdentity(this.client, this.identity);
      await this.options.saveIdentity(renewed);
      this.identity = renewed;
      log.info({ notAfter: renewalTimes(renewed.certificatePem).notAfter }, 'renewed the node certificate: connecting again with it');
      // The gateway takes the old certificate no more; the next dial uses the new one.
      if (this.call === call) call.cancel();
    } catch (err) {
      log.warn({ err, expires: notAfter }, 'renewing the node certificate failed; trying again in a minute');
      clearTimeout(this.renewalTimer);
      this.renewalTimer = setTimeout(() => void this.renew(notAfter), 60_000).unref();
    }
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  private send(msg: AgentMessage): boolean {
    if (this.state !== 'connected' || !this.call) return false;
    return this.call.write(msg);
  }

  private dial(): void {
    if (this.stopped) return;
    this.setState('connecting');
    const client = this.newClient();
    const call = client.Connect();
    this.call = call;
    const { log } = this.options;
    let welcomed = false;
    client.waitForReady(Date.now() + CONNECT_TIMEOUT_MS, (err) => {
      if (!err || this.call !== call) return;
      log.warn({ timeoutMs: CONNECT_TIMEOUT_MS }, 'no connection to the gateway in time: dialing again on a new one');
      call.cancel();
    });
    call.on('data', (raw: unknown) => {
      const parsed = GatewayMessageSchema.safeParse(raw);
      if (!parsed.success) {
        log.warn({ issues: parsed.error.issues.slice(0, 5) }, 'refused an invalid message from the gateway');
        return;
      }
      if (parsed.data.msg === 'welcome') {
        welcomed = true;
        this.attempt = 0;
        this.welcomed(parsed.data.welcome);
        this.setState('connected');
        log.info({ node: parsed.data.welcome.nodeName }, 'connected to the gateway');
        this.scheduleRenewal();
        return;
      }
      void this.handle(parsed.data).catch((err) => log.error({ err, msg: parsed.data.msg }, 'handling a gateway message failed'));
    });
    // 'error' precedes 'status' for a failed call; listening keeps it from being thrown.
    call.on('error', () => undefined);
    // 'status' ends every call exactly once (a duplex stream's 'close' waits for our side too).
    call.on('status', (status: grpc.StatusObject) => {
      if (this.call !== call) return;
      this.call = undefined;
      this.endStreams();
      call.end();
      if (this.stopped) return;
      if (status.code === grpc.status.UNAUTHENTICATED || status.code === grpc.status.PERMISSION_DENIED || status.code === grpc.status.FAILED_PRECONDITION) {
        log.error({ reason: status.details }, 'the gateway refused this node');
        this.setState('disconnected');
        this.emit('refused', status.details);
        return;
      }
      const { notAfter } = renewalTimes(this.identity.certificatePem);
      if (!welcomed && Date.now() > notAfter.getTime()) {
        const reason = `the node certificate expired at ${notAfter.toISOString()} (the agent was away longer than it is valid): join again with a new token`;
        log.error({ reason }, 'cannot connect to the gateway');
        this.setState('disconnected');
        this.emit('refused', reason);
        return;
      }
      log.warn({ code: status.code, reason: status.details }, welcomed ? 'lost the gateway connection' : 'cannot connect to the gateway');
      this.setState('disconnected');
      this.retry();
    });
    this.syncParts = [];
    call.write({
      msg: 'hello',
      hello: { protocolVersion: PROTOCOL_VERSION, agentVersion: this.options.agentVersion, offer: this.options.offer(), system: this.options.system, features: AGENT_FEATURES },
    });
  }

  private welcomed(welcome: Welcome): void {
    const { clusterRegistry } = welcome;
    this.names = clusterRegistry ? new ImageNames(clusterRegistry, this.options.registryRelay) : undefined;
    const local = (image: string) => (this.names ? this.names.toLocal(image) : image);
    const images = welcome.images && { sandbox: local(welcome.images.sandbox), isolation: local(welcome.images.isolation), git: local(welcome.images.git) };
    this.emit('welcome', { ...welcome, images });
  }

  private retry(): void {
    const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempt++);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2); // "equal jitter"
    this.options.log.info({ inMs: Math.round(delay) }, 'reconnecting to the gateway');
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }

  private endStreams(): void {
    this.tunnels.closeAll();
    for (const s of this.streams.values()) {
      s.abort.abort();
      s.exec?.end();
    }
    this.streams.clear();
  }

  private async handle(msg: GatewayMessage): Promise<void> {
    const { runtime } = this.options;
    switch (msg.msg) {
      case 'welcome':
        return;
      case 'podSync': {
        // The set is whole at its last part; a part before it is only kept.
        this.syncParts.push(...msg.podSync.pods);
        if (msg.podSync.more) return;
        const pods = this.syncParts.map((p) => this.local(p));
        const { kept } = msg.podSync;
        this.syncParts = [];
        this.pods.sync(pods, kept);
        await runtime.sync(pods, kept);
        // Whatever changed while we were away: report the last known status of every pod.
        const wanted = new Set([...pods.map((p) => p.uid), ...kept]);
        for (const [uid, status] of this.statuses) {
          if (wanted.has(uid)) this.send({ msg: 'podStatus', podStatus: status });
          else this.statuses.delete(uid);
        }
        return;
      }
      case 'podUpsert': {
        const pod = this.local(msg.podUpsert);
        this.pods.upsert(pod);
        return runtime.upsert(pod);
      }
      case 'earnings':
        this.earnings = msg.earnings;
        return;
      case 'podDelete':
        return runtime.remove(msg.podDelete.uid, msg.podDelete.gracePeriodSeconds);
      case 'volumeDelete': {
        const volumeName = msg.volumeDelete.volumeName;
        const error = await runtime.deleteVolume(volumeName).then(
          () => '',
          (err: Error) => err.message,
        );
        this.send({ msg: 'volumeDeleted', volumeDeleted: { volumeName, error } });
        return;
      }
      case 'openStream':
        if (msg.openStream.kind === 'dial') return this.tunnels.dial(msg.openStream);
        return this.openStream(msg.openStream);
      case 'streamFlow':
        return this.tunnels.flow(msg.streamFlow.streamId, msg.streamFlow.paused);
      case 'serviceSync':
        return this.services.sync(msg.serviceSync.services);
      case 'streamData': {
        if (this.tunnels.has(msg.streamData.streamId)) return this.tunnels.data(msg.streamData.streamId, Buffer.from(msg.streamData.data));
        const exec = this.streams.get(msg.streamData.streamId)?.exec;
        if (!exec) return;
        if (msg.streamData.data.byteLength === 0) exec.end(); // stdin reached EOF
        else exec.write(Buffer.from(msg.streamData.data));
        return;
      }
      case 'streamResize':
        this.streams.get(msg.streamResize.streamId)?.exec?.resize(msg.streamResize.width, msg.streamResize.height);
        return;
      case 'streamEnd': {
        // The client went away: stop following, end the session, drop the tunnel.
        this.tunnels.end(msg.streamEnd.streamId);
        const s = this.streams.get(msg.streamEnd.streamId);
        s?.abort.abort();
        s?.exec?.end();
        this.streams.delete(msg.streamEnd.streamId);
        return;
      }
    }
  }

  /** A pod as this machine runs it: images of the cluster registry come through the relay. */
  private local(pod: Pod): Pod {
    return this.names ? this.names.pod(pod) : pod;
  }

  /** Relays a log or exec stream, respecting the transport's backpressure. */
  private async openStream(open: OpenStream): Promise<void> {
    const { runtime, log } = this.options;
    const streamId = open.streamId;
    const abort = new AbortController();
    const entry: { abort: AbortController; exec?: ExecSession } = { abort };
    this.streams.set(streamId, entry);
    let exitCode: number | undefined;
    let error = '';
    try {
      let output: AsyncIterable<{ channel: 1 | 2; data: Buffer }>;
      if (open.kind === 'logs' && open.logs) {
        output = runtime.logs(open.podUid, open.container, open.logs, abort.signal);
      } else if (open.kind === 'exec' && open.exec) {
        entry.exec = runtime.exec(open.podUid, open.container, open.exec);
        output = entry.exec.output;
      } else {
        throw new Error(`stream kind ${open.kind} came without its options`);
      }
      for await (const { channel, data } of output) {
        if (abort.signal.aborted) break;
        for (let offset = 0; offset < data.length; offset += CHUNK) {
          const sent = this.send({ msg: 'streamData', streamData: { streamId, channel, data: data.subarray(offset, offset + CHUNK) } });
          if (!sent && this.call) await once(this.call, 'drain');
        }
      }
      if (entry.exec) exitCode = await entry.exec.exit;
    } catch (err) {
      if (!abort.signal.aborted) {
        error = (err as Error).message;
        log.info({ streamId, error }, 'stream failed');
      }
    } finally {
      if (this.streams.get(streamId) === entry) {
        this.streams.delete(streamId);
        this.send({ msg: 'streamEnd', streamEnd: { streamId, error, exitCode } });
      }
    }
  }
}
