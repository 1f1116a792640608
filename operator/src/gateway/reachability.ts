// Whether providers outside the cluster can reach the gateway as installed: the lattice-gateway
// Service (config/operator/services.yaml) is how they dial in. A LoadBalancer that never gets an
// address (a cluster without load balancers) or an address the gateway's certificate does not
// cover (agents refuse it) is a mistake in the install: said once, as an install problem.
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isNotFound } from '../kube/errors.js';
import { installProblems, type InstallProblem } from '../kube/install-problems.js';

export const GATEWAY_SERVICE = 'lattice-gateway';
/** How long a LoadBalancer may go without an address before it is a problem. */
const LOAD_BALANCER_GRACE_MS = 60_000;
const CHECK_EVERY_MS = 10_000;

/** What the Service says about reaching the gateway, `waitedMs` after the gateway started. */
export function reachabilityProblem(service: k8s.V1Service, servingHosts: readonly string[], waitedMs: number): InstallProblem | 'pending' | undefined {
  if (service.spec?.type !== 'LoadBalancer') return undefined;
  const name = `${service.metadata?.namespace}/${service.metadata?.name}`;
  const addresses = (service.status?.loadBalancer?.ingress ?? []).flatMap((i) => [i.hostname, i.ip]).filter((a): a is string => !!a);
  if (!addresses.length) {
    if (waitedMs < LOAD_BALANCER_GRACE_MS) return 'pending';
    return {
      reason: 'GatewayUnreachable',
      message: `Service ${name} has had no load balancer address for ${Math.round(waitedMs / 1000)} s: providers outside the cluster cannot reach the gateway; on a cluster without load balancers, install with the component config/components/nodeport`,
    };
  }
  // Agents verify the gateway by a name or address its certificate covers; a DNS name in front of the load balancer counts.
  if (addresses.some((a) => servingHosts.includes(a))) return undefined;
  return {
    reason: 'GatewayCertificate',
    message: `providers reach the gateway at ${addresses.join(', ')} (the load balancer of Service ${name}), which its certificate does not cover (LATTICE_SERVING_HOSTS: ${servingHosts.join(', ')}): add the address, or the DNS name agents use for it`,
  };
}

/**
 * Checks the Service every 10 s until it is settled (an address covered, or a problem reported).
 * A gateway whose namespace has no such Service (run outside the cluster) has nothing to check.
 */
export function watchReachability(core: k8s.CoreV1Api, namespace: string, servingHosts: readonly string[], log: Logger): { stop(): void } {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const check = async () => {
    let service: k8s.V1Service;
    try {
      service = await core.readNamespacedService({ name: GATEWAY_SERVICE, namespace });
    } catch (err) {
      if (!isNotFound(err)) log.warn({ err }, `cannot read Service ${namespace}/${GATEWAY_SERVICE} to check that providers reach the gateway`);
      return;
    }
    const found = reachabilityProblem(service, servingHosts, Date.now() - started);
    if (found === 'pending') {
      if (!stopped) timer = setTimeout(() => void check(), CHECK_EVERY_MS);
    } else if (found && installProblems.report(found)) {
      log.error({ reason: found.reason }, found.message);
    }
  };
  void check();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
