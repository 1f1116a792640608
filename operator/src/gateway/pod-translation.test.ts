import type * as k8s from '@kubernetes/client-node';
import { refusalReason, toAgentPod, type PodResolver } from './pod-translation.js';

const pod = (namespace: string, spec: Partial<k8s.V1PodSpec> = {}, owner?: string): k8s.V1Pod => ({
  metadata: { name: 'p', namespace, uid: 'u1', ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner, name: 'o', uid: 'o1', controller: true }] } : {}) },
  spec: { containers: [{ name: 'app', image: 'busybox:1' }], ...spec },
});

const everything: k8s.V1Toleration = { operator: 'Exists' };
const provider: k8s.V1Toleration = { key: 'lattice.dev/provider', operator: 'Exists', effect: 'NoSchedule' };

describe('refusalReason', () => {
  test("refuses the pods of Kubernetes' own namespaces, whatever they tolerate", () => {
    for (const ns of ['kube-system', 'kube-public', 'kube-node-lease']) {
      expect(refusalReason(pod(ns, { tolerations: [provider] }))).toMatch(new RegExp(`^pods of ${ns} do not run on Lattice providers`));
    }
  });

  test('refuses a DaemonSet pod that tolerates every taint, and runs one that names the provider taint', () => {
    expect(refusalReason(pod('logging', { tolerations: [everything] }, 'DaemonSet'))).toMatch(/tolerates the lattice.dev\/provider taint by its key/);
    expect(refusalReason(pod('logging', {}, 'DaemonSet'))).toBeDefined();
    expect(refusalReason(pod('logging', { tolerations: [everything, provider] }, 'DaemonSet'))).toBeUndefined();
  });

  test("leaves a tenant's pods alone, bound by the scheduler or by nodeName", () => {
    expect(refusalReason(pod('shop', { tolerations: [provider] }, 'ReplicaSet'))).toBeUndefined();
    expect(refusalReason(pod('shop', { nodeName: 'provider-1' }))).toBeUndefined();
  });
});

describe('toAgentPod', () => {
  const none: PodResolver = { secret: () => undefined, configMap: () => undefined, localVolume: () => undefined };

  test('gives a pod whose name is longer than a hostname the name cut to 63 characters, as the kubelet does', () => {
    const long = `${'a'.repeat(62)}-${'b'.repeat(40)}`;
    const translated = toAgentPod({ ...pod('shop'), metadata: { name: long, namespace: 'shop', uid: 'u1' } }, none);
    expect(translated.name).toBe(long);
    expect(translated.hostname).toBe('a'.repeat(62));
  });
});
