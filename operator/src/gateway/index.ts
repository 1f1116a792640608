// The gateway as the operator process runs it: options (validated), start, stop.
import * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import { agentImages } from '../platform-images.js';
import { Gateway } from './gateway.js';
import { DEFAULT_CAPS, DEFAULT_REQUEST_RATE } from './ingress/client-limits.js';
import { Ingress } from './ingress/ingress.js';
import { parsePortRange } from './ingress/tcp-ports.js';
import { locatedPod } from './kubelet-api/pods.js';
import { watchReachability } from './reachability.js';
import { watchRegistry } from './registry-check.js';
import { startKubeletApi, type RunningKubeletApi } from './kubelet-api/start.js';

export const GatewayOptionsSchema = z.object({
  /** Where agents dial in (gRPC over TLS), host:port. */
  grpcAddress: z.string().regex(/^[^\s]+:\d{1,5}$/, 'must be HOST:PORT').default('127.0.0.1:7443'),
  /** Names and addresses agents use to reach the gateway; its certificate covers them. */
  servingHosts: z.array(z.string().min(1)).min(1).default(['127.0.0.1', 'localhost']),
  /** The address the apiserver reaches the kubelet API at (the Nodes' InternalIP). */
  kubeletAddress: z.string().min(1).default('127.0.0.1'),
  /** The kubelet API's port; 0 picks a free one (tests). */
  kubeletPort: z.number().int().min(0).max(65535).default(10250),
  /** Seconds a dropped agent stream may stay away before its Node is NotReady. */
  disconnectGraceSeconds: z.number().min(1).max(600).default(10),
  /** How long a node certificate is valid; agents renew theirs at 70% of it (a provider away longer joins again). */
  nodeCertificateSeconds: z.number().int().min(10).max(365 * 86_400).default(30 * 86_400),
  /** Seconds past the end of a provider's availability window before its pods are moved off. */
  drainGraceSeconds: z.number().min(0).max(86_400).default(300),
  /** Seconds between two meterings of each provider's reserved usage (earnings). */
  meteringIntervalSeconds: z.number().min(0.5).max(3600).default(30),
  /** Namespace of the gateway's Secrets (CA, join tokens, node identities). */
  namespace: z.string().min(1).default('lattice-system'),
  /** Public ingress: served when a base domain is set (public URLs are https://<wl>--<ns>.<base>). */
  ingressBaseDomain: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a DNS name, e.g. apps.example.net')
    .optional(),
  ingressAddress: z.string().min(1).default('0.0.0.0'),
  /** The HTTPS port; 0 picks a free one (tests). */
  ingressPort: z.number().int().min(0).max(65535).default(8443),
  /** Gateway ports for public TCP ports, FIRST-LAST. */
  ingressTcpPorts: z
    .string()
    .refine((v) => parsePortRange(v) !== undefined, 'must be a port range FIRST-LAST, e.g. 30000-30099')
    .default('30000-30099'),
  ingressTlsCert: z.string().min(1).optional(),
  ingressTlsKey: z.string().min(1).optional(),
  /** Open connections to the ingress allowed from one client address; 0: no cap (clients behind one NAT or proxy). */
  ingressMaxConnectionsPerClient: z.number().int().min(0).default(DEFAULT_CAPS.perClient),
  /** HTTP requests a second allowed from one client address (bursts of twice as many); 0: no cap. */
  ingressMaxRequestsPerClient: z.number().int().min(0).default(DEFAULT_REQUEST_RATE.perSecond),
  /** Serve the public ports of this namespace only (--watch-namespace). */
  watchNamespace: z.string().min(1).optional(),
  /** The cluster's image registry as image names give it (host[:port]), clusterRegistry to agents; none: no relay. */
  registry: z.string().min(1).optional(),
  /** Where the gateway reaches the registry (default http://<registry>). */
  registryUrl: z.string().url().optional(),
});

export type GatewayOptions = z.infer<typeof GatewayOptionsSchema>;

export interface RunningGateway {
  gateway: Gateway;
  kubeletApi: RunningKubeletApi;
  ingress?: Ingress;
  stop(): Promise<void>;
}

/**
 * Starts the kubelet API (so its port is known), then the gateway whose Nodes point at it. The
 * kubelet API finds pods in the gateway's informer cache and agents among its live connections.
 */
export async function startGateway(kc: k8s.KubeConfig, options: GatewayOptions, log: Logger, registry: Registry): Promise<RunningGateway> {
  const clusterRegistry = options.registry ? { name: options.registry, url: new URL(options.registryUrl ?? `http://${options.registry}`), images: agentImages(options.registry) } : undefined;
  // The kubelet API asks the gateway, which needs the kubelet API's port: tie the knot here.
  const ref: { gateway?: Gateway } = {};
  const kubeletApi = await startKubeletApi({
    kc,
    identity: 'lattice-gateway',
    listenHost: options.kubeletAddress,
    port: options.kubeletPort,
    advertisedHosts: [options.kubeletAddress],
    locatePod: (namespace, name) => {
      const pod = ref.gateway?.pod(namespace, name);
      return pod ? locatedPod(pod) : undefined;
    },
    connections: (node) => ref.gateway?.connection(node),
    logger: log.child({ component: 'kubelet-api' }),
  });
  const gateway = new Gateway(
    kc,
    {
      namespace: options.namespace,
      grpcAddress: options.grpcAddress,
      servingHosts: options.servingHosts,
      kubeletEndpoint: { address: options.kubeletAddress, port: kubeletApi.port },
      disconnectGraceMs: options.disconnectGraceSeconds * 1000,
      nodeCertificateMs: options.nodeCertificateSeconds * 1000,
      drainGraceMs: options.drainGraceSeconds * 1000,
      serviceNamespace: options.watchNamespace,
      meteringIntervalMs: options.meteringIntervalSeconds * 1000,
      registry: clusterRegistry,
    },
    log.child({ component: 'gateway' }),
    registry,
  );
  ref.gateway = gateway;
  await gateway.start();
  const ingress = options.ingressBaseDomain
    ? new Ingress(
        kc,
        {
          address: options.ingressAddress,
          port: options.ingressPort,
          baseDomain: options.ingressBaseDomain,
          tcpPorts: parsePortRange(options.ingressTcpPorts)!,
          tlsCertFile: options.ingressTlsCert,
          tlsKeyFile: options.ingressTlsKey,
          namespace: options.watchNamespace,
          caps: { ...DEFAULT_CAPS, perClient: options.ingressMaxConnectionsPerClient },
          requestRate: { perSecond: options.ingressMaxRequestsPerClient, burst: 2 * options.ingressMaxRequestsPerClient },
        },
        {
          dial: (pod, port) => gateway.dial(pod, port),
          pods: (namespace) => gateway.podsIn(namespace),
          connected: (node) => gateway.connection(node) !== undefined,
          ca: gateway.certificateAuthority,
        },
        log.child({ component: 'ingress' }),
        registry,
      )
    : undefined;
  await ingress?.start();
  const reachability = watchReachability(kc.makeApiClient(k8s.CoreV1Api), options.namespace, options.servingHosts, log.child({ component: 'gateway' }));
  // KUBERNETES_SERVICE_HOST: the kubelet sets it in every pod.
  const registryCheck = clusterRegistry && watchRegistry(clusterRegistry.url, { inPod: process.env.KUBERNETES_SERVICE_HOST !== undefined }, log.child({ component: 'gateway' }));
  return {
    gateway,
    kubeletApi,
    ingress,
    stop: async () => {
      reachability.stop();
      registryCheck?.stop();
      await ingress?.stop();
      await gateway.stop();
      await kubeletApi.close();
    },
  };
}
