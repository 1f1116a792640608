// Service to service across providers: a pod reaches a Service of its own namespace by name and
// port, wherever the Service's replicas run. The agent listens for the pod (agent/src/tunnels/
// services.ts) and opens a ServiceDial stream; here the gateway checks the node may reach that
// namespace, picks a Ready replica, opens a dial stream to the replica's node and splices the two.
// Bytes between providers only ever travel on the agents' mutual-TLS gRPC streams.
//
// Each node learns the Services of the namespaces it has pods in, and only those (ServiceSync),
// again whenever they or its pods change.
import { isDeepStrictEqual } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { GatewayMessage, ServiceDial, ServiceEntry } from '@lattice/protocol';
import { informer, type Cache } from '../../kube/informer.js';
import type { StreamMux } from '../streams.js';
import { Endpoints, type RouteSource } from './routes.js';
import { TunnelSocket, endAfterFlush } from './tunnel.js';

export interface ServiceRelayDeps extends RouteSource {
  /** The pods bound to a node. */
  podsOn(nodeName: string): readonly k8s.V1Pod[];
  /** A tunnel to a port of a pod, through its node's agent (throws when it is not connected). */
  dial(pod: k8s.V1Pod, port: number): TunnelSocket;
}

interface Node {
  mux: StreamMux;
  send(msg: GatewayMessage): boolean;
  /** What it was last told. */
  told?: ServiceEntry[];
}

const SYNC_DELAY_MS = 100;

export class ServiceRelay {
  private readonly services: Cache<k8s.V1Service>;
  private readonly endpoints = new Endpoints();
  private readonly nodes = new Map<string, Node>();
  private readonly connections: Counter<'namespace' | 'service' | 'outcome'>;
  private syncTimer?: NodeJS.Timeout;

  constructor(
    kc: k8s.KubeConfig,
    namespace: string | undefined,
    private readonly deps: ServiceRelayDeps,
    private readonly log: Logger,
    registry: Registry,
  ) {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    this.services = informer(
      kc,
      namespace ? `/api/v1/namespaces/${namespace}/services` : '/api/v1/services',
      () => (namespace ? core.listNamespacedService({ namespace }) : core.listServiceForAllNamespaces()),
      log,
    );
    for (const event of ['add', 'update', 'delete'] as const) this.services.on(event, () => this.changed());
    this.connections = new Counter({
      name: 'lattice_gateway_service_connections_total',
      help: 'Connections from pods to Services relayed between agents, by outcome (relayed, or why refused)',
      labelNames: ['namespace', 'service', 'outcome'] as const,
      registers: [registry],
    });
  }

  start(): Promise<void> {
    return this.services.start();
  }

  async stop(): Promise<void> {
    clearTimeout(this.syncTimer);
    await this.services.stop();
  }

  /** A node's agent connected: tell it its Services now. */
  attach(nodeName: string, node: Omit<Node, 'told'>): void {
    this.nodes.set(nodeName, { ...node });
    this.sync(nodeName);
  }

  detach(nodeName: string, mux: StreamMux): void {
    if (this.nodes.get(nodeName)?.mux === mux) this.nodes.delete(nodeName);
  }

  /** Pods or Services changed: tell every node what changed for it, in one pass shortly after. */
  changed(): void {
    this.syncTimer ??= setTimeout(() => {
      this.syncTimer = undefined;
      for (const name of this.nodes.keys()) this.sync(name);
    }, SYNC_DELAY_MS);
  }

  /** A pod on `nodeName` connects to a Service: relay it, or end the stream saying why not. */
  dial(nodeName: string, request: ServiceDial): void {
    const node = this.nodes.get(nodeName);
    if (!node) return;
    const { streamId, namespace, service: name, port } = request;
    const refuse = (outcome: string, error: string) => {
      this.connections.inc({ namespace, service: name, outcome });
      this.log.info({ node: nodeName, namespace, service: name, port, error }, 'service connection refused');
      node.send({ msg: 'streamEnd', streamEnd: { streamId, error } });
    };
    // A node reaches the Services of the namespaces it runs pods of, never another's.
    if (!this.namespacesOn(nodeName).has(namespace)) return refuse('forbidden', `node ${nodeName} runs no pod of namespace ${namespace}`);
    const service = this.services.get(name, namespace);
    const servicePort = service?.spec?.ports?.find((p) => p.port === port && (p.protocol ?? 'TCP') === 'TCP');
    if (!service || !servicePort) return refuse('unknown', `no Service ${name} with TCP port ${port} in namespace ${namespace}`);
    const pod = this.endpoints.next(`${namespace}/${name}:${port}`, service, this.deps);
    if (!pod) return refuse('noEndpoint', `Service ${namespace}/${name} has no ready replica on a connected provider`);
    const targetPort = containerPort(pod, servicePort);
    if (!targetPort) return refuse('noEndpoint', `no container port ${String(servicePort.targetPort)} in pod ${pod.metadata?.name}`);
    const accepted = node.mux.accept(streamId);
    if (!accepted) return refuse('invalid', `stream ${streamId} is already open`);
    const client = new TunnelSocket(accepted);
    let upstream: TunnelSocket;
    try {
      upstream = this.deps.dial(pod, targetPort);
    } catch {
      // The replica's provider disconnected since it was picked.
      client.destroy();
      this.connections.inc({ namespace, service: name, outcome: 'noEndpoint' });
      return;
    }
    this.connections.inc({ namespace, service: name, outcome: 'relayed' });
    client.pipe(upstream);
    upstream.pipe(client);
    // When one side is closed, the other gets what is still on its way, then closes too.
    client.on('close', () => endAfterFlush(upstream));
    upstream.on('close', () => endAfterFlush(client));
    const fail = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', fail);
    upstream.on('error', fail);
  }

  private namespacesOn(nodeName: string): Set<string> {
    return new Set(this.deps.podsOn(nodeName).map((p) => p.metadata!.namespace!));
  }

  private sync(nodeName: string): void {
    const node = this.nodes.get(nodeName);
    if (!node) return;
    const namespaces = this.namespacesOn(nodeName);
    const services: ServiceEntry[] = this.services
      .list()
      .filter((s) => namespaces.has(s.metadata!.namespace!) && s.spec?.selector && s.spec.clusterIP !== 'None')
      .map((s) => ({
        namespace: s.metadata!.namespace!,
        name: s.metadata!.name!,
        ports: (s.spec!.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => p.port),
      }))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    if (isDeepStrictEqual(services, node.told)) return;
    node.told = services;
    node.send({ msg: 'serviceSync', serviceSync: { services } });
  }
}

/** The container port a Service port targets in this pod (a number, or a named container port). */
function containerPort(pod: k8s.V1Pod, port: k8s.V1ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const container of pod.spec?.containers ?? []) {
    const named = container.ports?.find((p) => p.name === target);
    if (named) return named.containerPort;
  }
  return undefined;
}
