// What every pod-scoped request goes through before any stream is opened: may the caller use the
// node the pod runs on, does the pod (and container) exist, is its agent connected here.
import type { StreamMux } from '../streams.js';
import { NODE_SUBRESOURCE, verbFor, type Authorizer, type UserInfo } from './auth.js';
import type { LocatedPod, NodeConnections, PodLocator } from './pods.js';

export class HttpError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Admitted {
  pod: LocatedPod;
  mux: StreamMux;
}

export interface AdmissionDeps {
  authorize: Authorizer;
  locatePod: PodLocator;
  connections: NodeConnections;
}

export interface PodRequest {
  /** The authenticated caller. */
  user: UserInfo;
  method: string;
  namespace: string;
  pod: string;
  uid?: string;
  container?: string;
}

/** Admits a request or throws the HttpError to answer it with. */
export async function admit(deps: AdmissionDeps, request: PodRequest): Promise<Admitted> {
  const { user } = request;
  const pod = await deps.locatePod(request.namespace, request.pod);
  // Authorize before saying whether the pod exists. An unknown pod has no node, so the caller
  // must then be allowed on every node (no name in the review), as a cluster-wide kubelet admin.
  const verb = verbFor(request.method);
  const decision = await deps.authorize(user, { verb, subresource: NODE_SUBRESOURCE, ...(pod ? { nodeName: pod.nodeName } : {}) });
  if (!decision.allowed) {
    const node = pod ? `nodes/${pod.nodeName}` : 'nodes';
    throw new HttpError(
      403,
      `Forbidden (user=${user.name}, verb=${verb}, resource=${node}, subresource=${NODE_SUBRESOURCE})${decision.reason ? `: ${decision.reason}` : ''}`,
    );
  }

  if (!pod || (request.uid !== undefined && request.uid !== pod.uid)) {
    throw new HttpError(404, `pod ${request.namespace}/${request.pod} does not exist or is not bound to a node`);
  }
  if (request.container !== undefined && !pod.containers.includes(request.container)) {
    throw new HttpError(404, `container ${request.container} is not in pod ${request.namespace}/${request.pod}`);
  }
  const mux = deps.connections(pod.nodeName);
  if (!mux) {
    throw new HttpError(
      503,
      `node ${pod.nodeName} has no agent connected to this Lattice gateway: the provider's machine is offline or reconnecting; try again when the node is Ready`,
    );
  }
  return { pod, mux };
}
