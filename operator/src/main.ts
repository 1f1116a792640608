#!/usr/bin/env tsx
// lattice-operator: the Lattice controllers and the provider gateway, in one process.
//
// Every replica fills its caches and serves /healthz, /readyz and /metrics; the one holding the
// leader Lease also runs the controllers and the gateway. Losing the Lease exits the process (a
// restart begins clean); SIGTERM or SIGINT stops it gracefully and hands the Lease over.
//
// Every flag can also be set from the environment variable shown in --help.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import * as k8s from '@kubernetes/client-node';
import { Command, InvalidArgumentError, Option } from 'commander';
import { pino, type Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import { LeaderElector } from './controller/leader-election.js';
import { LeaderLabel } from './controller/leader-label.js';
import { LeaderElectionLost, Manager } from './controller/manager.js';
import { ControllerMetrics } from './controller/metrics.js';
import { cronWorkloadController } from './cronworkload/index.js';
import { GatewayOptionsSchema, startGateway, type RunningGateway } from './gateway/index.js';
import type { PublicEndpoints } from './gateway/ingress/exposure.js';
import { isAlreadyExists, statusCode } from './kube/errors.js';
import { EventRecorder } from './kube/events.js';
import { installProblems, type InstallProblem } from './kube/install-problems.js';
import { postgresController } from './postgres/index.js';
import { workloadController } from './workload/controller.js';

const COMPONENT = 'lattice-operator';

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const seconds = (max: number) => z.number().int().min(1).max(max);

/** Everything the flags say, validated; the gateway's part is the gateway's own schema. */
const OperatorOptions = z
  .object({
    kubeconfig: z.string().min(1).optional(),
    namespace: z.string().regex(NAME, 'must be a namespace name'),
    watchNamespace: z.string().regex(NAME, 'must be a namespace name').optional(),
    leaderElect: z.boolean(),
    leaderElectionLease: z.string().regex(NAME, 'must be a Lease name'),
    leaderElectionNamespace: z.string().regex(NAME, 'must be a namespace name').optional(),
    leaderElectionIdentity: z.string().min(1).max(128).optional(),
    leaseDurationSeconds: seconds(300),
    renewDeadlineSeconds: seconds(300),
    retryPeriodSeconds: seconds(60),
    healthAddress: z.string().min(1),
    metricsPort: z.number().int().min(0).max(65535),
    providerLossTimeoutSeconds: seconds(86_400),
    registry: z.string().regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, 'must be a registry host[:port], e.g. registry.example.net:5000'),
    registryUrl: z.string().url().optional(),
    buildTimeoutSeconds: seconds(86_400),
    buildCpu: z.string().regex(/^\d+(\.\d+)?m?$/, 'must be a CPU quantity, e.g. 1 or 500m'),
    buildMemory: z.string().regex(/^\d+(Ki|Mi|Gi)?$/, 'must be a memory quantity, e.g. 2Gi'),
    maxConcurrentReconciles: z.number().int().min(1).max(64),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']),
    gateway: z.boolean(),
    ...GatewayOptionsSchema.omit({ namespace: true, watchNamespace: true, registry: true, registryUrl: true }).partial().shape,
    ingressPublicPort: z.number().int().min(1).max(65535).optional(),
    ingressTcpHost: z.string().min(1).optional(),
    postgresProviderSelector: z.record(z.string(), z.string()).optional(),
  })
  .refine((o) => o.renewDeadlineSeconds < o.leaseDurationSeconds, {
    path: ['renewDeadlineSeconds'],
    message: 'must be shorter than --lease-duration-seconds, or two replicas could both act',
  })
  .refine((o) => o.retryPeriodSeconds < o.renewDeadlineSeconds, {
    path: ['retryPeriodSeconds'],
    message: 'must be shorter than --renew-deadline-seconds, or the leader cannot renew in time',
  });

type OperatorOptions = z.infer<typeof OperatorOptions>;

function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('expected a number');
  return n;
}

function boolean(value: string): boolean {
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new InvalidArgumentError('expected true or false');
}

const list = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** "a=b,c=d" -> {a: 'b', c: 'd'}. */
function labels(value: string): Record<string, string> {
  return Object.fromEntries(
    list(value).map((pair) => {
      const [key, v, ...rest] = pair.split('=');
      if (!key || v === undefined || rest.length) throw new InvalidArgumentError(`expected key=value, got "${pair}"`);
      return [key, v];
    }),
  );
}

/** A flag that can also come from LATTICE_<NAME>. */
function flag(flags: string, description: string, parse?: (value: string) => unknown, defaultValue?: unknown): Option {
  const long = /--([a-z-]+)/.exec(flags)![1]!;
  const option = new Option(flags, description).env(`LATTICE_${long.toUpperCase().replaceAll('-', '_')}`);
  if (parse) option.argParser(parse);
  if (defaultValue !== undefined) option.default(defaultValue);
  return option;
}

const program = new Command('lattice-operator')
  .description('Runs the Lattice controllers and the provider gateway (on the elected leader).')
  .addOption(new Option('--kubeconfig <file>', 'kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, then the pod service account)'))
  .addOption(flag('--namespace <name>', "namespace of the operator's own objects; created if missing outside the cluster", undefined, 'lattice-system'))
  .addOption(flag('--watch-namespace <name>', 'reconcile Lattice objects in this namespace only (default: every namespace)'))
  .addOption(flag('--leader-elect <bool>', 'act only while holding the leader Lease (run several replicas for failover)', boolean, true))
  .addOption(flag('--leader-election-lease <name>', 'name of the leader Lease', undefined, 'lattice-operator'))
  .addOption(flag('--leader-election-namespace <name>', 'namespace of the leader Lease (default: --namespace)'))
  .addOption(flag('--leader-election-identity <id>', 'identity in the Lease, unique per replica (default: pod or host name plus a random suffix)'))
  .addOption(flag('--lease-duration-seconds <s>', 'how long a silent leader is waited for before another replica takes over', number, 10))
  .addOption(flag('--renew-deadline-seconds <s>', 'how long the leader retries renewing before it steps down', number, 7))
  .addOption(flag('--retry-period-seconds <s>', 'time between attempts to acquire or renew the Lease', number, 1))
  .addOption(flag('--health-address <address>', 'address of the health and metrics server', undefined, '0.0.0.0'))
  .addOption(flag('--metrics-port <port>', 'port of /metrics, /healthz and /readyz (0: any free port)', number, 8080))
  .addOption(
    flag('--provider-loss-timeout-seconds <s>', "how long a lost provider's replicas wait before Kubernetes recreates them elsewhere", number, 60),
  )
  .addOption(
    flag('--registry <host:port>', "the cluster's image registry, as image names give it: Lattice's images (<registry>/lattice/...) and builds from Git", undefined, '127.0.0.1:5001'),
  )
  .addOption(flag('--registry-url <url>', 'where the gateway reaches that registry to relay it to providers (default http://<registry>)'))
  .addOption(flag('--build-timeout-seconds <s>', 'a build from Git still running after this long is stopped and failed', number, 900))
  .addOption(flag('--build-cpu <quantity>', 'CPU of each build from Git (reserved on the provider, and its limit)', undefined, '1'))
  .addOption(flag('--build-memory <quantity>', 'memory of each build from Git (reserved on the provider, and its limit)', undefined, '2Gi'))
  .addOption(flag('--max-concurrent-reconciles <n>', 'objects each controller reconciles at the same time', number, 4))
  .addOption(flag('--log-level <level>', 'trace, debug, info, warn, error or fatal', undefined, 'info'))
  .addOption(flag('--gateway <bool>', 'run the provider gateway on the leader', boolean, true))
  .addOption(flag('--grpc-address <host:port>', 'where agents connect to the gateway (gRPC over TLS)'))
  .addOption(flag('--serving-hosts <names>', "comma-separated names and IPs agents reach the gateway by (its certificate's)", list))
  .addOption(flag('--kubelet-address <address>', "where the apiserver reaches the gateway's kubelet API (the Nodes' InternalIP)"))
  .addOption(flag('--kubelet-port <port>', "port of the gateway's kubelet API", number))
  .addOption(flag('--disconnect-grace-seconds <s>', "how long an agent may stay disconnected before its Node is NotReady", number))
  .addOption(flag('--node-certificate-seconds <s>', 'how long a node certificate is valid; agents renew theirs at 70% of it, a provider away longer joins again (default 2592000: 30 days)', number))
  .addOption(flag('--drain-grace-seconds <s>', "how long past a provider's availability window its pods may stay", number))
  .addOption(flag('--ingress-base-domain <domain>', 'serve public URLs https://<workload>--<namespace>.<domain> (the DNS name and its wildcard must reach the gateway)'))
  .addOption(flag('--ingress-address <address>', 'address of the public ingress (HTTPS and public TCP ports; default 0.0.0.0)'))
  .addOption(flag('--ingress-port <port>', 'HTTPS port of the public ingress (default 8443)', number))
  .addOption(flag('--ingress-public-port <port>', 'HTTPS port clients use in public URLs, when a port mapping differs (default: --ingress-port)', number))
  .addOption(flag('--ingress-tcp-ports <first-last>', 'gateway ports for public TCP ports (default 30000-30099)'))
  .addOption(flag('--ingress-tcp-host <host>', 'host name or address in tcp:// endpoints and database publicHost (default: the base domain)'))
  .addOption(flag('--ingress-tls-cert <file>', 'PEM certificate for *.<base domain> (default: one issued by the gateway CA)'))
  .addOption(flag('--ingress-tls-key <file>', 'PEM private key of --ingress-tls-cert'))
  .addOption(flag('--ingress-max-connections-per-client <n>', 'open connections to the ingress allowed from one client address; 0: no cap, for clients behind one NAT or proxy address (default 512)', number))
  .addOption(flag('--ingress-max-requests-per-client <n>', 'HTTP requests a second allowed from one client address, in bursts of up to twice as many (more are answered 429); 0: no cap (default 1000)', number))
  .addOption(flag('--postgres-provider-selector <labels>', 'comma-separated key=value labels a provider must carry to run PostgreSQL servers', labels))
  .addOption(flag('--metering-interval-seconds <s>', "how often providers' reserved usage is metered and their earnings sent (default 30)", number))
  .showHelpAfterError();

/** The options, or an exit with every problem named by its flag and environment variable. */
function parseOptions(): OperatorOptions {
  program.parse();
  const parsed = OperatorOptions.safeParse(program.opts());
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const option = program.options.find((o) => o.attributeName() === issue.path[0]);
    const where = option ? `${option.long}${option.envVar ? ` (${option.envVar})` : ''}` : issue.path.join('.');
    console.error(`lattice-operator: ${where}: ${issue.message}`);
  }
  process.exit(2);
}

function kubeConfig(path: string | undefined): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/**
 * Outside the cluster (a developer's machine) the namespace may not exist yet; inside, it does.
 * An identity that may not create namespaces (the operator's own) is trusted to have one.
 */
async function ensureNamespace(kc: k8s.KubeConfig, namespace: string, log: Logger): Promise<void> {
  if (kc.getCurrentCluster()?.name === 'inCluster') return;
  try {
    await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    log.info({ namespace }, 'created namespace');
  } catch (err) {
    if (statusCode(err) === 403) log.info({ namespace }, 'may not create namespaces; assuming the namespace exists');
    else if (!isAlreadyExists(err)) throw err;
  }
}

/** Where the controllers say public ports are reachable, when the ingress is on. */
function publicEndpointsOf(options: OperatorOptions): PublicEndpoints | undefined {
  const { ingressBaseDomain: baseDomain, ingressAddress = '0.0.0.0', ingressPort = 8443 } = options;
  if (!baseDomain) return undefined;
  return {
    baseDomain,
    httpsPort: options.ingressPublicPort ?? ingressPort,
    tcpHost: options.ingressTcpHost ?? baseDomain,
    // The controllers run beside the gateway (on the leader): they check URLs on this machine.
    probeAddress: { host: ingressAddress === '0.0.0.0' || ingressAddress === '::' ? '127.0.0.1' : ingressAddress, port: ingressPort },
  };
}

/** How Workloads are built from Git (see build/). */
function buildOptions(options: OperatorOptions) {
  const { registry: buildRegistry, buildTimeoutSeconds, buildCpu, buildMemory } = options;
  return { buildRegistry, buildTimeoutSeconds, buildCpu, buildMemory };
}

async function main(options: OperatorOptions, log: Logger): Promise<void> {
  const kc = kubeConfig(options.kubeconfig);
  await ensureNamespace(kc, options.namespace, log);

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const identity = options.leaderElectionIdentity ?? `${process.env.POD_NAME ?? os.hostname()}_${randomBytes(4).toString('hex')}`;
  const manager = new Manager({
    log,
    registry,
    host: options.healthAddress,
    port: options.metricsPort,
    elector: options.leaderElect
      ? new LeaderElector(
          kc.makeApiClient(k8s.CoordinationV1Api),
          {
            namespace: options.leaderElectionNamespace ?? options.namespace,
            name: options.leaderElectionLease,
            identity,
            leaseDurationMs: options.leaseDurationSeconds * 1000,
            renewDeadlineMs: options.renewDeadlineSeconds * 1000,
            retryPeriodMs: options.retryPeriodSeconds * 1000,
          },
          log.child({ part: 'leader-election' }),
        )
      : undefined,
  });

  // In a pod (POD_NAME, POD_NAMESPACE and POD_UID from the downward API), the leader labels its
  // pod once all else started (added last below): the gateway's and ingress's Services select the
  // label, and must route only to a gateway that listens; stopping, it is the first thing undone.
  const { POD_NAME, POD_NAMESPACE, POD_UID } = process.env;
  const label = POD_NAME && POD_NAMESPACE ? new LeaderLabel(core, { name: POD_NAME, namespace: POD_NAMESPACE }, log) : undefined;
  await label?.clear();

  const deps = { log, metrics: new ControllerMetrics(registry), events: new EventRecorder(core, COMPONENT, log) };
  // A mistake in the install, on the operator's own pod, for `kubectl describe pod`.
  if (POD_NAME && POD_NAMESPACE && POD_UID) {
    const self = { apiVersion: 'v1', kind: 'Pod', name: POD_NAME, namespace: POD_NAMESPACE, uid: POD_UID };
    installProblems.on('problem', (problem: InstallProblem) => void deps.events.record(self, 'Warning', problem.reason, problem.message));
  }
  const scope = { namespace: options.watchNamespace, maxConcurrency: options.maxConcurrentReconciles };
  const publicEndpoints = publicEndpointsOf(options);
  for (const { controller, caches } of [
    workloadController(kc, { ...scope, ...buildOptions(options), providerLossTimeoutSeconds: options.providerLossTimeoutSeconds, publicEndpoints }, deps),
    cronWorkloadController(kc, scope, deps),
    postgresController(kc, { ...scope, publicEndpoints, providerSelector: options.postgresProviderSelector, registry: options.registry }, deps),
  ]) {
    manager.addCaches(...caches).addController(controller);
  }

  if (options.gateway) {
    const { grpcAddress, servingHosts, kubeletAddress, kubeletPort, disconnectGraceSeconds, nodeCertificateSeconds, drainGraceSeconds, meteringIntervalSeconds } = options;
    const { ingressBaseDomain, ingressAddress, ingressPort, ingressTcpPorts, ingressTlsCert, ingressTlsKey, ingressMaxConnectionsPerClient, ingressMaxRequestsPerClient } = options;
    const gatewayOptions = GatewayOptionsSchema.parse({
      namespace: options.namespace,
      watchNamespace: options.watchNamespace,
      ...{ ingressBaseDomain, ingressAddress, ingressPort, ingressTcpPorts, ingressTlsCert, ingressTlsKey, ingressMaxConnectionsPerClient, ingressMaxRequestsPerClient },
      ...{ grpcAddress, servingHosts, kubeletAddress, kubeletPort, disconnectGraceSeconds, nodeCertificateSeconds, drainGraceSeconds, meteringIntervalSeconds },
      registry: options.registry,
      registryUrl: options.registryUrl,
    });
    let gateway: RunningGateway | undefined;
    manager.add({
      name: 'gateway',
      start: async () => {
        gateway = await startGateway(kc, gatewayOptions, log, registry);
      },
      stop: async () => gateway?.stop(),
    });
  }

  if (label) manager.add(label);

  const shutdown = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      log.info({ signal }, 'stopping; a second signal exits at once');
      shutdown.abort();
      process.once(signal, () => process.exit(1));
    });
  }
  log.info({ identity, leaderElect: options.leaderElect, gateway: options.gateway, watchNamespace: options.watchNamespace ?? 'all' }, 'starting');
  await manager.run(shutdown.signal);
}

const options = parseOptions();
const log = pino({ name: COMPONENT, level: options.logLevel });
// A promise a callback let go of (an informer handler, a write not awaited) is a bug to log, as Go
// code logs an ignored error: not a reason to stop serving every other tenant and provider, which
// is what Node does by default, and what a tenant's malformed object could then trigger at will.
process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection (a bug in Lattice); carrying on'));
try {
  await main(options, log);
  process.exit(0);
} catch (err) {
  // After losing the Lease another replica acts already: exit at once, nothing may act any more.
  log.fatal({ err }, err instanceof LeaderElectionLost ? 'leader election lost; exiting' : 'operator failed');
  process.exit(1);
}
