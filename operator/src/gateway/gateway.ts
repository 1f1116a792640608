// The virtual-kubelet gateway: agents dial in over gRPC, each becomes one Node of the cluster.
//
//   Join     a join token + CSR -> a node client certificate (server-authenticated TLS only).
//   Connect  mutual TLS; the certificate names the node. One live stream per node: pods down,
//            status up, logs/exec multiplexed (StreamMux).
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import {
  AgentMessageSchema,
  GatewayService,
  JoinRequestSchema,
  RenewRequestSchema,
  MAX_MESSAGE_BYTES,
  PROTOCOL_VERSION,
  type AgentMessage,
  type GatewayMessage,
  type Hello,
  type Offer,
  type PlatformImages,
} from '@lattice/protocol';
import { EventRecorder } from '../kube/events.js';
import { availabilityAt } from './availability.js';
import { loadOrCreateCertificateAuthority } from './ca-store.js';
import { JoinRefused, JoinTokens } from './join-tokens.js';
import { LocalVolumeProvisioner } from './local-volumes.js';
import { gatewayMetrics, type GatewayMetrics } from './metrics.js';
import { NodeIdentities } from './node-identities.js';
import { NODE_ORGANIZATION, NodeCsrError, certificateFingerprint, issueServingCertificate, signNodeCertificate, type CertificateAuthority } from './pki.js';
import { ProviderBudgets } from './provider-budget.js';
import { Rerun } from '../kube/rerun.js';
import { offeredCapacity } from './admission.js';
import { PodDispatcher } from './pod-dispatcher.js';
import { RegistryRelay } from './registry-relay.js';
import { createStreamMetrics } from './kubelet-api/metrics.js';
import { ServiceRelay } from './ingress/service-relay.js';
import { TunnelSocket } from './ingress/tunnel.js';
import { StreamMux, type StreamObserver } from './streams.js';
import { VirtualNode } from './virtual-node.js';
import { UsageMeter } from '../usage/meter.js';

export interface GatewayConfig {
  /** Namespace of the gateway's own Secrets (CA, join tokens, node identities). */
  namespace: string;
  /** Where the gRPC server listens, e.g. 127.0.0.1:7443. */
  grpcAddress: string;
  /** DNS names and IPs agents reach the gateway by; its serving certificate covers them. */
  servingHosts: string[];
  /** Where the apiserver reaches the gateway's kubelet API (Node addresses and daemon endpoint). */
  kubeletEndpoint: { address: string; port: number };
  /** How long a dropped stream may stay away before the Node is NotReady. */
  disconnectGraceMs: number;
  /** How long past the end of its availability window pods may stay on a provider. */
  drainGraceMs: number;
  /** How long a node certificate is valid (short-lived: agents renew theirs with Renew). */
  nodeCertificateMs: number;
  /** How long a Connect may take to say Hello. */
  helloTimeoutMs?: number;
  /** Relay pods' connections to the Services of this namespace only (--watch-namespace). */
  serviceNamespace?: string;
  /** How often each connected provider's usage is metered and its earnings sent to it. */
  meteringIntervalMs: number;
  /** The cluster's image registry, relayed to agents, and the images they run for themselves. */
  registry?: { name: string; url: URL; images: PlatformImages };
}

const NODE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const AVAILABILITY_CHECK_MS = 15_000;

/** One connected agent. */
class AgentSession {
  readonly mux: StreamMux;
  private closed = false;

  constructor(
    readonly nodeName: string,
    private readonly call: grpc.ServerDuplexStream<unknown, unknown>,
    observer: StreamObserver,
  ) {
    this.mux = new StreamMux({ send: (msg) => this.send(msg), observer });
    call.on('drain', () => this.mux.drained());
  }

  send(msg: GatewayMessage): boolean {
    if (this.closed) return false;
    return this.call.write(msg);
  }

  close(status: grpc.status, details: string): void {
    if (this.closed) return;
    this.closed = true;
    this.mux.closeAll(details);
    // grpc-js ends a server stream with this status when it sees 'error'.
    this.call.emit('error', { code: status, details });
  }
}

export class Gateway {
  readonly metrics: GatewayMetrics;
  private readonly streamMetrics: StreamObserver;
  private readonly core: k8s.CoreV1Api;
  private readonly coordination: k8s.CoordinationV1Api;
  private readonly events: EventRecorder;
  // A provider whose link is cut sends no FIN: a ping every 2 s, unanswered for 3 s, finds it gone
  // within 5 s, so its Node is NotReady within 5 s plus the disconnect grace. (An HTTP/2 PING is
  // 17 bytes: every 2 s costs nothing worth saving for a thousand agents.)
  private readonly server = new grpc.Server({
    'grpc.keepalive_time_ms': 2_000,
    'grpc.keepalive_timeout_ms': 3_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  });
  private readonly sessions = new Map<string, AgentSession>();
  private readonly nodes = new Map<string, NodeEntry>();
  private readonly budgets = new ProviderBudgets();
  private readonly identities: NodeIdentities;
  private readonly dispatcher: PodDispatcher;
  private readonly volumes: LocalVolumeProvisioner;
  private readonly tokens: JoinTokens;
  private readonly serviceRelay: ServiceRelay;
  private readonly meter: UsageMeter;
  private readonly registryRelay?: RegistryRelay;
  private ca?: CertificateAuthority;
  private availabilityTimer?: NodeJS.Timeout;
  private boundPort?: number;
  /** Set by stop(): a Connect still being authenticated then must not register a node. */
  private stopping = false;

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly config: GatewayConfig,
    private readonly log: Logger,
    registry: Registry,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    this.metrics = gatewayMetrics(registry);
    this.streamMetrics = createStreamMetrics(registry);
    this.events = new EventRecorder(this.core, 'lattice-gateway', log);
    this.tokens = new JoinTokens(this.core, config.namespace);
    this.identities = new NodeIdentities(kc, this.core, config.namespace, (node) => this.revoked(node), log);
    this.dispatcher = new PodDispatcher(kc, this.core, this.events, this.metrics, config.kubeletEndpoint.address, this.budgets, (node) => {
      const offer = this.nodes.get(node)?.offer;
      return offer && offeredCapacity(offer);
    }, log.child({ part: 'pods' }));
    this.serviceRelay = new ServiceRelay(
      kc,
      config.serviceNamespace,
      {
        pods: (namespace) => this.dispatcher.podsIn(namespace),
        podsOn: (node) => this.dispatcher.podsOf(node),
        connected: (node) => this.sessions.has(node),
        dial: (pod, port) => this.dial(pod, port),
      },
      log.child({ part: 'services' }),
      registry,
    );
    this.dispatcher.onPodsChanged(() => this.serviceRelay.changed());
    this.volumes = new LocalVolumeProvisioner(
      kc,
      this.core,
      kc.makeApiClient(k8s.StorageV1Api),
      (node, volumeName) => this.sessions.get(node)?.send({ msg: 'volumeDelete', volumeDelete: { volumeName } }) ?? false,
      log.child({ part: 'volumes' }),
    );
    this.meter = new UsageMeter({
      core: this.core,
      namespace: config.namespace,
      intervalMs: config.meteringIntervalMs,
      connectedNodes: () => [...this.sessions.keys()],
      podsOf: (node) => this.dispatcher.podsOf(node),
      send: (node, earnings) => this.sessions.get(node)?.send({ msg: 'earnings', earnings }) ?? false,
      log: log.child({ part: 'usage' }),
      registry,
    });
    if (config.registry) {
      this.registryRelay = new RegistryRelay({
        name: config.registry.name,
        url: config.registry.url,
        podsOf: (node) => this.dispatcher.podsOf(node),
        log: log.child({ part: 'registry' }),
      });
    }
  }

  /** The StreamMux of a node's live connection (for the kubelet API), if it is connected. */
  connection(nodeName: string): StreamMux | undefined {
    return this.sessions.get(nodeName)?.mux;
  }

  /** A pod bound to some node, from the informer cache. */
  pod(namespace: string, name: string): k8s.V1Pod | undefined {
    return this.dispatcher.pod(namespace, name);
  }

  /** The pods of a namespace bound to some node, from the informer cache. */
  podsIn(namespace: string): readonly k8s.V1Pod[] {
    return this.dispatcher.podsIn(namespace);
  }

  /**
   * A TCP connection to a port of a pod, through the agent of the node it is bound to (which
   * refuses any pod not its own). Throws when that node's agent is not connected.
   */
  dial(pod: k8s.V1Pod, port: number): TunnelSocket {
    const node = pod.spec?.nodeName;
    const mux = node ? this.connection(node) : undefined;
    if (!mux) throw new Error(`the provider of pod ${pod.metadata?.namespace}/${pod.metadata?.name} is not connected`);
    return new TunnelSocket(mux.open({ kind: 'dial', podUid: pod.metadata!.uid!, container: '', dial: { port } }));
  }

  /** The gateway CA (for the ingress's default serving certificate); set once started. */
  get certificateAuthority(): CertificateAuthority {
    if (!this.ca) throw new Error('the gateway is not started');
    return this.ca;
  }

  /** The port the gRPC server listens on (useful when configured as :0). */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('the gateway is not started');
    return this.boundPort;
  }

  async start(): Promise<void> {
    this.ca = await loadOrCreateCertificateAuthority(this.core, this.config.namespace);
    await this.identities.start();
    await this.volumes.start();
    await this.dispatcher.start();
    await this.serviceRelay.start();
    const serving = await issueServingCertificate(this.ca, this.config.servingHosts);
    const identity = { certificate: Buffer.from(serving.certificatePem), privateKey: Buffer.from(serving.privateKeyPem) };
    const caCertificate = Buffer.from(this.ca.certificatePem);
    // Client certificates are requested but not required: Join has none yet. Connect checks them.
    // Listeners are answered on the next tick: grpc-js registers the server's watcher only after
    // adding them, and a synchronous answer would be lost (the server would drop every connection).
    const provider: grpc.experimental.CertificateProvider = {
      addCaCertificateListener: (l) => setImmediate(() => l({ caCertificate })),
      removeCaCertificateListener: () => undefined,
      addIdentityCertificateListener: (l) => setImmediate(() => l(identity)),
      removeIdentityCertificateListener: () => undefined,
    };
    const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
    this.server.addService(GatewayService.service, {
      Join: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => void this.join(call, callback),
      Connect: (call: grpc.ServerDuplexStream<unknown, unknown>) => void this.connect(call),
      Registry: (call: grpc.ServerDuplexStream<unknown, unknown>) => void this.registryCall(call),
      Renew: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => void this.renew(call, callback),
    });
    this.boundPort = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(this.config.grpcAddress, credentials, (err, port) => (err ? reject(err) : resolve(port))),
    );
    this.availabilityTimer = setInterval(() => void this.checkAvailability(), AVAILABILITY_CHECK_MS);
    this.meter.start();
    this.log.info({ address: this.config.grpcAddress, port: this.boundPort }, 'gateway listening');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.availabilityTimer);
    await this.meter.stop();
    for (const session of this.sessions.values()) session.close(grpc.status.UNAVAILABLE, 'the gateway is shutting down');
    for (const { node, lostTimer } of this.nodes.values()) {
      clearTimeout(lostTimer);
      node.stopTimers();
    }
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    await Promise.all([this.dispatcher.stop(), this.volumes.stop(), this.identities.stop(), this.serviceRelay.stop()]);
  }

  /** A join token for providers; it pins this gateway's CA. */
  async createJoinToken(ttlSeconds: number, usageLimit: number, description?: string) {
    const ca = this.ca ?? (await loadOrCreateCertificateAuthority(this.core, this.config.namespace));
    return this.tokens.create({ caFingerprint: await certificateFingerprint(ca.certificatePem), ttlSeconds, usageLimit, description });
  }

  private async join(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): Promise<void> {
    const request = JoinRequestSchema.safeParse(call.request);
    if (!request.success) {
      this.metrics.joins.inc({ outcome: 'invalid' });
      return callback({ code: grpc.status.INVALID_ARGUMENT, details: `invalid join request: ${request.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` });
    }
    const { token, nodeName, csrPem } = request.data;
    if (!NODE_NAME.test(nodeName) || nodeName.length > 63) {
      this.metrics.joins.inc({ outcome: 'invalid' });
      return callback({ code: grpc.status.INVALID_ARGUMENT, details: `"${nodeName}" is not a valid node name: use lower-case letters, digits and '-', at most 63 characters` });
    }
    try {
      // All that can refuse the join is asked before the token is used up.
      await this.identities.checkAvailable(nodeName);
      const issued = await signNodeCertificate(this.ca!, csrPem, nodeName, this.config.nodeCertificateMs);
      await this.tokens.consume(token);
      await this.identities.record(nodeName, issued.serialNumber, issued.notAfter);
      this.metrics.joins.inc({ outcome: 'joined' });
      this.log.info({ node: nodeName }, 'provider joined');
      callback(null, { nodeName, certificatePem: issued.certificatePem, caPem: this.ca!.certificatePem });
    } catch (err) {
      if (err instanceof JoinRefused || err instanceof NodeCsrError) {
        this.metrics.joins.inc({ outcome: 'refused' });
        this.log.info({ node: nodeName, reason: err.message }, 'join refused');
        return callback({ code: grpc.status.PERMISSION_DENIED, details: err.message });
      }
      this.log.error({ err, node: nodeName }, 'join failed');
      callback({ code: grpc.status.INTERNAL, details: 'the gateway could not complete the join; try again' });
    }
  }

  /**
   * A new certificate for the node the call's certificate names, for the key of the request; the
   * old certificate is current no more (its connections go on until they end).
   */
  private async renew(call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>): Promise<void> {
    const who = await this.authenticate(call);
    if ('error' in who) return callback({ code: grpc.status.UNAUTHENTICATED, details: who.error });
    const request = RenewRequestSchema.safeParse(call.request);
    if (!request.success) return callback({ code: grpc.status.INVALID_ARGUMENT, details: 'invalid renew request: csrPem must be a PEM certificate request' });
    try {
      const issued = await signNodeCertificate(this.ca!, request.data.csrPem, who.node, this.config.nodeCertificateMs);
      await this.identities.renewed(who.node, who.serial, issued.serialNumber, issued.notAfter);
      this.metrics.renewals.inc({ outcome: 'renewed' });
      this.log.info({ node: who.node, notAfter: issued.notAfter }, 'node certificate renewed');
      callback(null, { nodeName: who.node, certificatePem: issued.certificatePem, caPem: this.ca!.certificatePem });
    } catch (err) {
      if (err instanceof NodeCsrError) return callback({ code: grpc.status.INVALID_ARGUMENT, details: err.message });
      this.metrics.renewals.inc({ outcome: 'failed' });
      this.log.error({ err, node: who.node }, 'renewing a node certificate failed');
      callback({ code: grpc.status.INTERNAL, details: 'the gateway could not renew the certificate; try again' });
    }
  }

  /** The node a call is from, from its verified client certificate, or why not. */
  private async authenticate(call: Pick<grpc.ServerDuplexStream<unknown, unknown>, 'getAuthContext'>): Promise<{ node: string; serial: string } | { error: string }> {
    const cert = call.getAuthContext().sslPeerCertificate;
    if (!cert) return { error: 'a client certificate signed by the gateway is required: join first (lattice-agent join)' };
    const node = cert.subject?.CN;
    const org = cert.subject?.O;
    if (typeof node !== 'string' || org !== NODE_ORGANIZATION) return { error: 'the client certificate is not a Lattice node certificate' };
    if (!(await this.identities.isCurrent(node, cert.serialNumber))) return { error: `node "${node}" was revoked or re-joined with another certificate` };
    return { node, serial: cert.serialNumber };
  }

  /** A Registry call: one request of the node's engine to the cluster registry (registry-relay.ts). */
  private async registryCall(call: grpc.ServerDuplexStream<unknown, unknown>): Promise<void> {
    const auth = await this.authenticate(call).catch((err: Error) => ({ error: `the gateway could not check the node certificate: ${err.message}` }));
    if ('error' in auth) {
      this.metrics.refusedMessages.inc({ reason: 'unauthenticated' });
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: auth.error });
      return;
    }
    if (!this.registryRelay) {
      call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'this gateway relays no image registry' });
      return;
    }
    this.registryRelay.serve(call, auth.node);
  }

  private async connect(call: grpc.ServerDuplexStream<unknown, unknown>): Promise<void> {
    let auth: Awaited<ReturnType<Gateway['authenticate']>>;
    try {
      auth = await this.authenticate(call);
    } catch (err) {
      // Not a refusal: the agent dials again.
      this.log.warn({ err }, 'checking a node certificate failed');
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the gateway could not check the node certificate; retry' });
      return;
    }
    if ('error' in auth) {
      this.metrics.refusedMessages.inc({ reason: 'unauthenticated' });
      call.emit('error', { code: grpc.status.UNAUTHENTICATED, details: auth.error });
      return;
    }
    const nodeName = auth.node;
    const log = this.log.child({ node: nodeName });
    const session = new AgentSession(nodeName, call, this.streamMetrics);
    let hello: Hello | undefined;
    const helloTimer = setTimeout(() => {
      if (!hello) session.close(grpc.status.DEADLINE_EXCEEDED, 'no Hello within the time allowed');
    }, this.config.helloTimeoutMs ?? 10_000);

    call.on('data', (raw: unknown) => {
      const parsed = AgentMessageSchema.safeParse(raw);
      if (!parsed.success) {
        this.metrics.refusedMessages.inc({ reason: 'invalid' });
        log.warn({ issues: parsed.error.issues.slice(0, 5) }, 'refused an invalid message from the agent');
        return;
      }
      const msg = parsed.data;
      log.debug({ msg: msg.msg }, 'agent message');
      if (!hello) {
        if (msg.msg !== 'hello') {
          this.metrics.refusedMessages.inc({ reason: 'beforeHello' });
          return;
        }
        hello = msg.hello;
        clearTimeout(helloTimer);
        if (hello.protocolVersion !== PROTOCOL_VERSION) {
          session.close(grpc.status.FAILED_PRECONDITION, `protocol version ${hello.protocolVersion} is not supported; this gateway speaks ${PROTOCOL_VERSION}: upgrade the agent`);
          return;
        }
        void this.attach(session, hello, log).catch((err) => {
          log.error({ err }, 'registering the node failed');
          session.close(grpc.status.UNAVAILABLE, 'the gateway could not register the node; retry');
        });
        return;
      }
      void this.handle(session, msg, log).catch((err) => log.error({ err, msg: msg.msg }, 'handling an agent message failed'));
    });
    const ended = () => {
      clearTimeout(helloTimer);
      this.detach(session, log);
    };
    call.on('end', ended);
    call.on('error', ended);
    call.on('cancelled', ended);
  }

  private async attach(session: AgentSession, hello: Hello, log: Logger): Promise<void> {
    if (this.stopping) {
      session.close(grpc.status.UNAVAILABLE, 'the gateway is shutting down');
      return;
    }
    const previous = this.sessions.get(session.nodeName);
    if (previous && previous !== session) previous.close(grpc.status.ABORTED, 'replaced by a newer connection of the same node');
    this.sessions.set(session.nodeName, session);
    let entry = this.nodes.get(session.nodeName);
    if (entry) {
      clearTimeout(entry.lostTimer);
      entry.offer = hello.offer;
      this.metrics.reconnects.inc({ node: session.nodeName });
    } else {
      entry = { node: new VirtualNode(session.nodeName, this.core, this.coordination, this.config.kubeletEndpoint, log), offer: hello.offer, connectedOnce: true };
      this.nodes.set(session.nodeName, entry);
    }
    this.metrics.connectedAgents.set(this.sessions.size);
    const { registry } = this.config;
    session.send({
      msg: 'welcome',
      welcome: { nodeName: session.nodeName, protocolVersion: PROTOCOL_VERSION, clusterRegistry: registry?.name ?? '', images: registry?.images },
    });
    await entry.node.availabilityChanged(this.availabilityOf(entry));
    await entry.node.connected(hello);
    // Stopped meanwhile: the Node's timers, started just now, must not outlive the gateway.
    if (this.stopping) {
      entry.node.stopTimers();
      return;
    }
    this.dispatcher.attach(session.nodeName, session, hello.features);
    this.serviceRelay.attach(session.nodeName, { mux: session.mux, send: (msg) => session.send(msg) });
    this.volumes.reclaimPending(session.nodeName);
    void this.meter.connected(session.nodeName).catch((err) => log.warn({ err }, 'reading the usage ledger failed'));
    log.info({ offer: { cpuMillis: hello.offer.cpuMillis, memoryBytes: hello.offer.memoryBytes } }, 'agent connected');
  }

  private detach(session: AgentSession, log: Logger): void {
    session.mux.closeAll('the agent disconnected');
    if (this.sessions.get(session.nodeName) !== session) return;
    this.sessions.delete(session.nodeName);
    this.dispatcher.detach(session.nodeName, session);
    this.serviceRelay.detach(session.nodeName, session.mux);
    this.metrics.connectedAgents.set(this.sessions.size);
    const entry = this.nodes.get(session.nodeName);
    if (!entry) return;
    log.info({ graceMs: this.config.disconnectGraceMs }, 'agent disconnected');
    clearTimeout(entry.lostTimer);
    entry.lostTimer = setTimeout(() => {
      if (this.sessions.has(session.nodeName)) return;
      void entry.node.lost().catch((err) => log.warn({ err }, 'marking the node NotReady failed'));
    }, this.config.disconnectGraceMs);
  }

  private async handle(session: AgentSession, msg: AgentMessage, log: Logger): Promise<void> {
    const node = session.nodeName;
    switch (msg.msg) {
      case 'hello':
        this.metrics.refusedMessages.inc({ reason: 'duplicateHello' });
        return;
      case 'offer':
        return this.offerChanged(node, msg.offer, log);
      case 'podStatus':
        return this.dispatcher.statusReported(node, msg.podStatus);
      case 'podEvent':
        return this.dispatcher.eventReported(node, msg.podEvent);
      case 'streamData':
      case 'streamEnd':
      case 'streamFlow':
        session.mux.handle(msg);
        return;
      case 'serviceDial':
        this.serviceRelay.dial(node, msg.serviceDial);
        return;
      case 'volumeDeleted':
        return this.volumes.volumeDeleted(node, msg.volumeDeleted.volumeName, msg.volumeDeleted.error);
    }
  }

  /**
   * A new offer: the Node's capacity, labels and taints follow, within the provider's write budget.
   * Offers that come while one is applied are coalesced: the newest is applied next.
   */
  private offerChanged(node: string, offer: Offer, log: Logger): Promise<void> {
    const entry = this.nodes.get(node)!;
    entry.offer = offer;
    entry.offerApply ??= new Rerun(async () => {
      // Two writes at most: the Node's taints, then its capacity and labels.
      await this.budgets.of(node).removeTokens(2);
      await entry.node.availabilityChanged(this.availabilityOf(entry));
      await entry.node.offerChanged(entry.offer);
      log.info({ offer: entry.offer }, 'provider offer changed');
    });
    return entry.offerApply.request();
  }

  private availabilityOf(entry: { offer: Offer; closedSince?: Date }) {
    const now = new Date();
    const state = availabilityAt(entry.offer.availability, now, entry.closedSince, this.config.drainGraceMs);
    entry.closedSince = state.available ? undefined : (entry.closedSince ?? now);
    return state;
  }

  /** Re-evaluates every connected node's window; the Node's taints follow. */
  private async checkAvailability(): Promise<void> {
    for (const [name, entry] of this.nodes) {
      if (!this.sessions.has(name)) continue;
      await entry.node.availabilityChanged(this.availabilityOf(entry)).catch((err) => this.log.warn({ err, node: name }, 'availability update failed'));
    }
  }

  /** The node's identity was revoked: drop its stream and remove the Node. */
  private revoked(nodeName: string): void {
    this.log.info({ node: nodeName }, 'node revoked');
    this.sessions.get(nodeName)?.close(grpc.status.PERMISSION_DENIED, 'this node was revoked by the cluster operator');
    const entry = this.nodes.get(nodeName);
    if (entry) {
      clearTimeout(entry.lostTimer);
      entry.node.stopTimers();
      this.nodes.delete(nodeName);
    }
    this.budgets.forget(nodeName);
    void this.core.deleteNode({ name: nodeName }).catch(() => undefined);
  }
}

interface NodeEntry {
  node: VirtualNode;
  offer: Offer;
  closedSince?: Date;
  lostTimer?: NodeJS.Timeout;
  connectedOnce: boolean;
  /** Applies the newest offer to the Node, one at a time (offerChanged). */
  offerApply?: Rerun;
}
