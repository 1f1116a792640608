import { diskEvictions, formatBytes } from './disk-usage.js';

const Mi = 2 ** 20;
const pod = (uid: string, ...containers: [string, number, number][]) => ({ uid, containers: containers.map(([name, usedBytes, limitBytes]) => ({ name, usedBytes, limitBytes })), emptyDirs: [] });
const withEmptyDir = (p: ReturnType<typeof pod>, name: string, usedBytes: number, sizeLimitBytes: number) => ({ ...p, emptyDirs: [...p.emptyDirs, { name, usedBytes, sizeLimitBytes }] });

describe('disk evictions', () => {
  it("evicts a pod over the sum of its containers' ephemeral-storage limits, in the kubelet's words", () => {
    expect(diskEvictions([pod('a', ['app', 30 * Mi, 20 * Mi]), pod('b', ['app', 10 * Mi, 20 * Mi])], 0)).toEqual([
      { uid: 'a', message: 'Pod ephemeral local storage usage exceeds the total limit of containers 20Mi. ' },
    ]);
    // Containers without a limit count towards the limits the others set, as the kubelet counts them.
    expect(diskEvictions([pod('a', ['app', 15 * Mi, 20 * Mi], ['sidecar', 10 * Mi, 0])], 0).map((e) => e.uid)).toEqual(['a']);
  });

  it('evicts a pod whose emptyDir is over its sizeLimit, and counts its emptyDirs towards the pod limit', () => {
    expect(diskEvictions([withEmptyDir(pod('a', ['app', 1 * Mi, 0]), 'scratch', 11 * Mi, 10 * Mi)], 0)).toEqual([
      { uid: 'a', message: 'Usage of EmptyDir volume "scratch" exceeds the limit "10Mi". ' },
    ]);
    expect(diskEvictions([withEmptyDir(pod('a', ['app', 1 * Mi, 0]), 'scratch', 9 * Mi, 10 * Mi)], 0)).toEqual([]);
    expect(diskEvictions([withEmptyDir(pod('a', ['app', 5 * Mi, 20 * Mi]), 'scratch', 16 * Mi, 0)], 0)).toEqual([
      { uid: 'a', message: 'Pod ephemeral local storage usage exceeds the total limit of containers 20Mi. ' },
    ]);
  });

  it('bounds a container without a limit by what the provider offers', () => {
    expect(diskEvictions([pod('a', ['app', 65 * Mi, 0])], 64 * Mi)).toEqual([{ uid: 'a', message: 'Container app exceeded its local ephemeral storage limit "64Mi". ' }]);
    // Nothing offered and no limit: nothing to measure against.
    expect(diskEvictions([pod('a', ['app', 65 * Mi, 0])], 0)).toEqual([]);
  });

  it('evicts the pod using the most when the pods together hold more than the offer, and only it', () => {
    const evictions = diskEvictions([pod('small', ['app', 20 * Mi, 0]), pod('big', ['a', 10 * Mi, 0], ['b', 30 * Mi, 0]), pod('mid', ['app', 30 * Mi, 0])], 64 * Mi);
    expect(evictions).toEqual([{ uid: 'big', message: expect.stringContaining('The node was low on resource: ephemeral-storage. Threshold quantity: 64Mi, in use: 90Mi. Container b was using 30Mi') }]);
  });

  it('counts emptyDirs when the pods together hold more than the offer, and names the largest user', () => {
    const evictions = diskEvictions([pod('small', ['app', 20 * Mi, 0]), withEmptyDir(pod('cache', ['app', 1 * Mi, 0]), 'cache', 50 * Mi, 0)], 64 * Mi);
    expect(evictions).toEqual([{ uid: 'cache', message: expect.stringContaining('in use: 71Mi. EmptyDir volume "cache" was using 50Mi, the most of any pod.') }]);
  });

  it('counts a pod already evicted for its own limit once', () => {
    expect(diskEvictions([pod('a', ['app', 70 * Mi, 60 * Mi]), pod('b', ['app', 30 * Mi, 0])], 64 * Mi).map((e) => e.uid)).toEqual(['a']);
  });

  it('writes quantities as Kubernetes does', () => {
    expect([0, 1023, 1024, 1536 * 1024, 20 * Mi, 1.5 * 2 ** 30, 2 ** 40].map(formatBytes)).toEqual(['0', '1023', '1Ki', '1.5Mi', '20Mi', '1.5Gi', '1Ti']);
  });
});
