import { BUILD_ENV, BUILDER_IMAGE, type Pod, type PodStatus } from '@lattice/protocol';
import { ImageNames } from './image-names.js';

const names = new ImageNames('registry.example.net:5000', '127.0.0.1:15001');

const container = (image: string, env: { name: string; value: string }[] = []) =>
  ({ name: 'c', image, env }) as unknown as Pod['containers'][number];

describe('ImageNames', () => {
  test('renames images of the cluster registry only, both ways', () => {
    expect(names.toLocal('registry.example.net:5000/lattice/busybox:1')).toBe('127.0.0.1:15001/lattice/busybox:1');
    expect(names.toLocal('registry.example.net:50001/x:1')).toBe('registry.example.net:50001/x:1');
    expect(names.toLocal('busybox:1.36')).toBe('busybox:1.36');
    expect(names.toCluster('127.0.0.1:15001/builds/shop/web@sha256:ab')).toBe('registry.example.net:5000/builds/shop/web@sha256:ab');
    expect(names.toCluster('127.0.0.1:5001/lattice/busybox:1')).toBe('127.0.0.1:5001/lattice/busybox:1');
  });

  test("a build pod's registry env is renamed, any other container's env is left as it is", () => {
    const env = [
      { name: BUILD_ENV.repository, value: 'registry.example.net:5000/builds/shop/web' },
      { name: BUILD_ENV.baseImages, value: 'registry.example.net:5000/lattice' },
    ];
    const pod = { containers: [container(BUILDER_IMAGE, env), container('registry.example.net:5000/x:1', env)], initContainers: [] } as unknown as Pod;
    const [builder, other] = names.pod(pod).containers;
    expect(builder!.env.map((e) => e.value)).toEqual(['127.0.0.1:15001/builds/shop/web', '127.0.0.1:15001/lattice']);
    expect(other!.image).toBe('127.0.0.1:15001/x:1');
    expect(other!.env).toEqual(env);
  });

  test("a build's result names the pushed image as the cluster knows it", () => {
    names.pod({ uid: 'u', containers: [container(BUILDER_IMAGE)], initContainers: [] } as unknown as Pod);
    const result = { image: '127.0.0.1:15001/builds/shop/web@sha256:ab', commit: 'c0ffee', durationSeconds: 3 };
    const status = {
      uid: 'u',
      initContainerStatuses: [],
      containerStatuses: [
        { image: '127.0.0.1:15001/lattice/busybox:1', imageId: '', state: { state: 'terminated', terminated: { exitCode: 0, message: JSON.stringify(result) } } },
        { image: '127.0.0.1:15001/lattice/busybox:1', imageId: '127.0.0.1:15001/lattice/busybox@sha256:cd', state: { state: 'terminated', terminated: { exitCode: 1, message: 'not json' } } },
      ],
    } as unknown as PodStatus;
    const [build, other] = names.status(status).containerStatuses;
    expect(JSON.parse(build!.state.terminated!.message).image).toBe('registry.example.net:5000/builds/shop/web@sha256:ab');
    expect(other!.image).toBe('registry.example.net:5000/lattice/busybox:1');
    expect(other!.imageId).toBe('registry.example.net:5000/lattice/busybox@sha256:cd');
    expect(other!.state.terminated!.message).toBe('not json');
    // Another pod's container may say what it likes: it is not a build's result.
    const [notBuild] = names.status({ ...status, uid: 'other' }).containerStatuses;
    expect(JSON.parse(notBuild!.state.terminated!.message).image).toBe(result.image);
  });

  test('event messages name images as the cluster does', () => {
    expect(names.text('Pulling image "127.0.0.1:15001/lattice/busybox:1"')).toBe('Pulling image "registry.example.net:5000/lattice/busybox:1"');
  });
});
