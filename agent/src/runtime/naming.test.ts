import { LABEL, containerLabels, containerName, emptyDirVolumeName, namespaceNetworkName, parseContainerLabels, podHostname, sandboxName } from './naming.js';

const pod = { uid: '0123abcd-4567-89ef-0000-111122223333', namespace: 'shop', name: 'web-7d9f', revision: 'r1', terminationGracePeriodSeconds: 20 };

describe('names', () => {
  it('names containers like the kubelet: namespace, pod, container, uid prefix, restart count', () => {
    expect(containerName(pod, 'app', 3)).toBe('lattice_shop_web-7d9f_app_0123abcd_3');
    expect(sandboxName(pod)).toBe('lattice_shop_web-7d9f__sandbox_0123abcd_0');
  });

  it('never lets a malformed name leave Docker\'s character set', () => {
    expect(containerName({ ...pod, name: 'a/b c' }, 'x:y', 0)).toBe('lattice_shop_a-b-c_x-y_0123abcd_0');
    expect(namespaceNetworkName('team a')).toBe('lattice-ns-team-a');
    expect(emptyDirVolumeName(pod.uid, 'cache')).toBe(`lattice_${pod.uid}_cache`);
  });

  it('cuts the hostname to 63 characters without a trailing dash or dot', () => {
    expect(podHostname({ hostname: '', name: 'web' })).toBe('web');
    expect(podHostname({ hostname: 'db-0', name: 'web' })).toBe('db-0');
    const long = `${'a'.repeat(62)}-b`;
    expect(podHostname({ hostname: '', name: long })).toBe('a'.repeat(62));
  });
});

describe('labels', () => {
  it('reads back what it wrote', () => {
    const labels = containerLabels({ nodeName: 'n1', pod, container: 'app', restartCount: 4, startTime: '2024-05-01T10:00:00Z' });
    expect(labels[LABEL.node]).toBe('n1');
    expect(parseContainerLabels(labels)).toEqual({
      uid: pod.uid,
      namespace: 'shop',
      podName: 'web-7d9f',
      container: 'app',
      revision: 'r1',
      restartCount: 4,
      gracePeriodSeconds: 20,
      startTime: '2024-05-01T10:00:00Z',
    });
  });

  it('ignores containers that are not the runtime\'s and tolerates damaged counts', () => {
    expect(parseContainerLabels({ 'com.example': 'x' })).toBeUndefined();
    expect(parseContainerLabels(undefined)).toBeUndefined();
    const parsed = parseContainerLabels({ [LABEL.podUid]: 'u', [LABEL.container]: 'c', [LABEL.restartCount]: '-1', [LABEL.gracePeriod]: 'soon' });
    expect(parsed).toMatchObject({ restartCount: 0, gracePeriodSeconds: 30 });
  });
});
