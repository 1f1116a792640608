import { diskEvictions, formatBytes } from './disk-usage.js';

const Mi = 2 ** 20;
const pod = (uid: string, ...containers: [string, number, number][]) => ({ uid, containers: containers.map(([name, usedBytes, limitBytes]) => ({ name, usedBytes, limitBytes })) });

describe('disk evictions', () => {
  it("evicts a pod whose container's writable layer is over its ephemeral-storage limit, in the kubelet's words", () => {
    expect(diskEvictions([pod('a', ['app', 30 * Mi, 20 * Mi]), pod('b', ['app', 10 * Mi, 20 * Mi])], 0)).toEqual([
      { uid: 'a', message: 'Container app exceeded its local ephemeral storage limit "20Mi". ' },
    ]);
  });

  it('bounds a container without a limit by what the provider offers', () => {
    expect(diskEvictions([pod('a', ['app', 65 * Mi, 0])], 64 * Mi).map((e) => e.uid)).toEqual(['a']);
    // Nothing offered and no limit: nothing to measure against.
    expect(diskEvictions([pod('a', ['app', 65 * Mi, 0])], 0)).toEqual([]);
  });

  it('evicts the pod using the most when the pods together hold more than the offer, and only it', () => {
    const evictions = diskEvictions([pod('small', ['app', 20 * Mi, 0]), pod('big', ['a', 10 * Mi, 0], ['b', 30 * Mi, 0]), pod('mid', ['app', 30 * Mi, 0])], 64 * Mi);
    expect(evictions).toEqual([{ uid: 'big', message: expect.stringContaining('The node was low on resource: ephemeral-storage. Threshold quantity: 64Mi, in use: 90Mi. Container b was using 30Mi') }]);
  });

  it('counts a pod already evicted for its own limit once', () => {
    expect(diskEvictions([pod('a', ['app', 70 * Mi, 60 * Mi]), pod('b', ['app', 30 * Mi, 0])], 64 * Mi).map((e) => e.uid)).toEqual(['a']);
  });

  it('writes quantities as Kubernetes does', () => {
    expect([0, 1023, 1024, 1536 * 1024, 20 * Mi, 1.5 * 2 ** 30, 2 ** 40].map(formatBytes)).toEqual(['0', '1023', '1Ki', '1.5Mi', '20Mi', '1.5Gi', '1Ti']);
  });
});
