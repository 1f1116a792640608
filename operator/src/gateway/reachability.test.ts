import type * as k8s from '@kubernetes/client-node';
import { reachabilityProblem } from './reachability.js';

const service = (type: string, ingress: k8s.V1LoadBalancerIngress[] = []): k8s.V1Service => ({
  metadata: { name: 'lattice-gateway', namespace: 'lattice-system' },
  spec: { type },
  status: { loadBalancer: { ingress } },
});
const HOSTS = ['lattice-gateway.lattice-system.svc', 'gateway.example.net'];

describe('reachabilityProblem', () => {
  test('a load balancer still without an address is waited for, then named with the fix', () => {
    expect(reachabilityProblem(service('LoadBalancer'), HOSTS, 30_000)).toBe('pending');
    const problem = reachabilityProblem(service('LoadBalancer'), HOSTS, 61_000);
    expect(problem).toEqual({ reason: 'GatewayUnreachable', message: expect.stringContaining('Service lattice-system/lattice-gateway has had no load balancer address for 61 s') });
    expect(problem !== 'pending' && problem?.message).toContain('config/components/nodeport');
  });

  test("an address the gateway's certificate does not cover is named, with the hosts it does cover", () => {
    expect(reachabilityProblem(service('LoadBalancer', [{ ip: '203.0.113.7' }]), HOSTS, 5_000)).toEqual({
      reason: 'GatewayCertificate',
      message: expect.stringMatching(/^providers reach the gateway at 203\.0\.113\.7 .*\(LATTICE_SERVING_HOSTS: lattice-gateway\.lattice-system\.svc, gateway\.example\.net\)/),
    });
  });

  test('a covered address, or a Service that is not a load balancer, is no problem', () => {
    expect(reachabilityProblem(service('LoadBalancer', [{ hostname: 'gateway.example.net' }]), HOSTS, 5_000)).toBeUndefined();
    expect(reachabilityProblem(service('NodePort'), HOSTS, 600_000)).toBeUndefined();
  });
});
