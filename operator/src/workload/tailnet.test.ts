import type * as k8s from '@kubernetes/client-node';
import { workload } from './fixtures.js';
import { podTemplate } from './pod-template.js';
import { tailnetAnnotations, withTailnetEndpoints } from './tailnet.js';

const wl = workload({
  ports: [
    { name: 'db', port: 5432, protocol: 'TCP', expose: 'tailnet' },
    { name: 'web', port: 8080 },
  ],
  tailnet: { authKeySecretRef: { name: 'ts-key' } },
});
const inCluster = [
  { port: 'db', url: 'tcp://web.shop.svc:5432' },
  { port: 'web', url: 'http://web.shop.svc:8080' },
];

function pod(name: string, created: string, ready: boolean, address?: string): k8s.V1Pod {
  return {
    metadata: { name, creationTimestamp: new Date(created), annotations: address ? { 'lattice.dev/tailnet-address': address } : {} },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

describe('expose: tailnet on the Workload side', () => {
  it('marks the pods with the Secret and the tailnet ports only', () => {
    expect(podTemplate(wl, { providerLossTimeoutSeconds: 60 }).metadata?.annotations).toEqual({
      'lattice.dev/tailnet-secret': 'ts-key',
      'lattice.dev/tailnet-ports': '5432',
    });
    expect(tailnetAnnotations(workload({ ports: [{ name: 'web', port: 8080 }] }))).toBeUndefined();
  });

  it("shows a tailnet port at the oldest ready replica's tailnet address", () => {
    const pods = [pod('b', '2026-01-02T00:00:00Z', true, '100.64.0.9'), pod('a', '2026-01-01T00:00:00Z', true, '100.64.0.3'), pod('c', '2025-12-01T00:00:00Z', false, '100.64.0.1')];
    expect(withTailnetEndpoints(wl, pods, inCluster)).toEqual([
      { port: 'db', url: 'tcp://100.64.0.3:5432' },
      { port: 'web', url: 'http://web.shop.svc:8080' },
    ]);
  });

  it('keeps the cluster address until a ready replica is on the tailnet', () => {
    expect(withTailnetEndpoints(wl, [pod('a', '2026-01-01T00:00:00Z', true)], inCluster)).toEqual(inCluster);
  });
});
