import type * as k8s from '@kubernetes/client-node';
import { refusalReason, toAgentPod, type PodResolver } from './pod-translation.js';

const pod = (namespace: string, spec: Partial<k8s.V1PodSpec> = {}, owner?: string): k8s.V1Pod => ({
  metadata: { name: 'p', namespace, uid: 'u1', ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: owner, name: 'o', uid: 'o1', controller: true }] } : {}) },
  spec: { containers: [{ name: 'app', image: 'busybox:1' }], ...spec },
});

const none: PodResolver = { secret: () => undefined, configMap: () => undefined, localVolume: () => undefined };
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

describe("a container's securityContext", () => {
  const withContext = (securityContext: k8s.V1SecurityContext, podContext?: k8s.V1PodSecurityContext) =>
    pod('shop', { containers: [{ name: 'app', image: 'busybox:1', securityContext }], securityContext: podContext });

  test('may add only what a provider container has, with or without CAP_, as restricted pods add NET_BIND_SERVICE', () => {
    expect(refusalReason(withContext({ capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } }))).toBeUndefined();
    expect(refusalReason(withContext({ capabilities: { add: ['cap_chown'] } }))).toBeUndefined();
    expect(refusalReason(withContext({ capabilities: { add: ['NET_BIND_SERVICE', 'CAP_NET_RAW', 'SYS_ADMIN'] } }))).toMatch(
      /^container "app": adding capabilities \(NET_RAW, SYS_ADMIN\) is not allowed on Lattice providers; a container may have CHOWN, /,
    );
  });

  test('may not turn seccomp off, in the container or the pod', () => {
    expect(refusalReason(withContext({ seccompProfile: { type: 'RuntimeDefault' } }))).toBeUndefined();
    expect(refusalReason(withContext({ seccompProfile: { type: 'Unconfined' } }))).toMatch(/seccompProfile Unconfined is not allowed/);
    expect(refusalReason(withContext({}, { seccompProfile: { type: 'Localhost', localhostProfile: 'x.json' } }))).toMatch(/seccompProfile Localhost is not allowed/);
  });

  test('reaches the agent: runAsNonRoot from the pod or the container, a read-only root, capabilities without CAP_', () => {
    const translated = toAgentPod(withContext({ readOnlyRootFilesystem: true, capabilities: { drop: ['all'], add: ['CAP_NET_BIND_SERVICE'] } }, { runAsNonRoot: true, runAsUser: 1000 }), none);
    expect(translated.containers[0]).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, readOnlyRootFilesystem: true, dropCapabilities: ['ALL'], addCapabilities: ['NET_BIND_SERVICE'] });
    expect(toAgentPod(withContext({ runAsNonRoot: false }, { runAsNonRoot: true }), none).containers[0]?.runAsNonRoot).toBe(false);
  });
});

describe('toAgentPod', () => {

  test('gives a pod whose name is longer than a hostname the name cut to 63 characters, as the kubelet does', () => {
    const long = `${'a'.repeat(62)}-${'b'.repeat(40)}`;
    const translated = toAgentPod({ ...pod('shop'), metadata: { name: long, namespace: 'shop', uid: 'u1' } }, none);
    expect(translated.name).toBe(long);
    expect(translated.hostname).toBe('a'.repeat(62));
  });
});
