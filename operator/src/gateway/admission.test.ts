import type * as k8s from '@kubernetes/client-node';
import { rejection } from './admission.js';

const pod = (name: string, cpu: string, memory: string, phase = 'Running'): k8s.V1Pod => ({
  metadata: { name },
  spec: { containers: [{ name: 'c', resources: { requests: { cpu, memory } } }] },
  status: { phase },
});
const capacity = { cpuMillis: 1000, memoryBytes: 2 ** 30, ephemeralStorageBytes: 2 ** 30, pods: 3 };

describe("a provider node's admission", () => {
  test('admits a pod that fits beside those admitted', () => {
    expect(rejection(pod('new', '500m', '256Mi'), [pod('a', '500m', '256Mi')], capacity)).toBeUndefined();
  });

  test('rejects a pod bound past the CPU the provider offers, in the kubelet\'s words', () => {
    expect(rejection(pod('huge', '64', '1Mi'), [pod('a', '500m', '1Mi')], capacity)).toEqual({
      reason: 'OutOfcpu',
      message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 64000, used: 500, capacity: 1000",
    });
  });

  test('rejects past memory and past the pod count', () => {
    expect(rejection(pod('m', '1m', '2Gi'), [], capacity)?.reason).toBe('OutOfmemory');
    expect(rejection(pod('d', '1m', '1Mi'), [pod('a', '1m', '1Mi'), pod('b', '1m', '1Mi'), pod('c', '1m', '1Mi')], capacity)?.reason).toBe('OutOfpods');
  });

  test("rejects past the disk the provider offers; a provider offering none (an older agent) is not checked", () => {
    const disk = (name: string, storage: string): k8s.V1Pod => ({
      metadata: { name },
      spec: { containers: [{ name: 'c', resources: { requests: { 'ephemeral-storage': storage } } }] },
      status: { phase: 'Running' },
    });
    expect(rejection(disk('big', '600Mi'), [disk('a', '600Mi')], capacity)).toEqual({
      reason: 'OutOfephemeral-storage',
      message: "Pod was rejected: Node didn't have enough resource: ephemeral-storage, requested: 629145600, used: 629145600, capacity: 1073741824",
    });
    expect(rejection(disk('big', '600Mi'), [disk('a', '600Mi')], { ...capacity, ephemeralStorageBytes: 0 })).toBeUndefined();
  });

  test('does not count finished pods', () => {
    expect(rejection(pod('new', '1', '1Mi'), [pod('done', '1', '1Mi', 'Succeeded'), pod('failed', '1', '1Mi', 'Failed')], capacity)).toBeUndefined();
  });

  test('admits a pod that requests nothing while CPU is all taken (best effort)', () => {
    expect(rejection({ metadata: { name: 'be' }, spec: { containers: [{ name: 'c' }] } }, [pod('a', '1', '1Mi')], capacity)).toBeUndefined();
  });
});
