// What the ingress routes, from the Services the controllers annotate (see exposure.ts), and to
// which replica: a Ready pod selected by the Service, bound to a node whose agent is connected,
// taken in turn (round-robin) so the replicas share the traffic.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Cache } from '../../kube/informer.js';
import { labelledInformer } from '../../kube/scoped-informers.js';
import { publicLabel, publicPortsOf, tcpPortsOf } from './exposure.js';

/** One public port of one Service. */
export interface Route {
  namespace: string;
  service: string;
  /** The container port the tunnel dials. */
  port: number;
  /** Names the endpoint in metrics: namespace/service:port-name. */
  endpoint: string;
}

export interface TcpRoute extends Route {
  /** The gateway port it listens on. */
  gatewayPort: number;
}

export interface RouteSource {
  /** The pods of a namespace bound to some node (the gateway's informer). */
  pods(namespace: string): readonly k8s.V1Pod[];
  /** Whether the node's agent is connected now (a tunnel can be opened). */
  connected(nodeName: string): boolean;
}

const MANAGED = 'app.kubernetes.io/managed-by=lattice-operator';

export class Routes {
  readonly services: Cache<k8s.V1Service>;
  private readonly endpoints = new Endpoints();
  /** The HTTP routes by host label, rebuilt when a Service changes (not on every request). */
  private httpRoutes: Map<string, Route> | undefined;

  constructor(
    kc: k8s.KubeConfig,
    namespace: string | undefined,
    private readonly source: RouteSource,
    log: Logger,
  ) {
    this.services = labelledInformer({ kc, namespace, log }, 'services', MANAGED);
    for (const event of ['add', 'update', 'delete'] as const) this.services.on(event, () => (this.httpRoutes = undefined));
  }

  /** The route of `<name>--<namespace>` (the first label of the host): the Service's first public HTTP port. */
  http(label: string): Route | undefined {
    if (!this.httpRoutes) {
      this.httpRoutes = new Map();
      for (const service of this.services.list()) {
        const key = publicLabel(service.metadata!.name!, service.metadata!.namespace!);
        const port = publicPortsOf(service).find((p) => p.protocol === 'HTTP');
        if (key && port) this.httpRoutes.set(key, this.route(service, port.name, port.port));
      }
    }
    return this.httpRoutes.get(label);
  }

  /** Every public TCP port that has a gateway port allocated. */
  tcp(): TcpRoute[] {
    return this.services.list().flatMap((service) => {
      const allocated = tcpPortsOf(service);
      return publicPortsOf(service)
        .filter((p) => p.protocol === 'TCP' && allocated[p.name] !== undefined)
        .map((p) => ({ ...this.route(service, p.name, p.port), gatewayPort: allocated[p.name]! }));
    });
  }

  /** The next Ready replica of the route's Service whose node is connected, or undefined. */
  pick(route: Route): k8s.V1Pod | undefined {
    const service = this.services.get(route.service, route.namespace);
    return service ? this.endpoints.next(route.endpoint, service, this.source) : undefined;
  }

  private route(service: k8s.V1Service, portName: string, port: number): Route {
    const namespace = service.metadata!.namespace!;
    const name = service.metadata!.name!;
    return { namespace, service: name, port, endpoint: `${namespace}/${name}:${portName}` };
  }
}

/** Takes the Ready replicas of Services in turn (round-robin per endpoint key). */
export class Endpoints {
  private readonly turns = new Map<string, number>();

  /** The next Ready pod selected by the Service, bound to a node whose agent is connected. */
  next(key: string, service: k8s.V1Service, source: RouteSource): k8s.V1Pod | undefined {
    const selector = service.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) return undefined;
    const ready = source
      .pods(service.metadata!.namespace!)
      .filter((pod) => matches(pod, selector) && isReady(pod) && !pod.metadata?.deletionTimestamp && source.connected(pod.spec!.nodeName!))
      .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
    if (ready.length === 0) return undefined;
    const turn = this.turns.get(key) ?? 0;
    this.turns.set(key, turn + 1);
    return ready[turn % ready.length];
  }
}

function matches(pod: k8s.V1Pod, selector: Record<string, string>): boolean {
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function isReady(pod: k8s.V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
