import type * as k8s from '@kubernetes/client-node';
import { BUILD_ENV, BUILDER_IMAGE } from '@lattice/protocol';
import { decide, nodeRepositories } from './registry-access.js';

const REGISTRY = 'registry.lattice.test:5000';

function pod(containers: k8s.V1Container[]): k8s.V1Pod {
  return { metadata: { name: 'p', namespace: 'shop' }, spec: { nodeName: 'n1', containers } };
}

const app = pod([{ name: 'app', image: `${REGISTRY}/builds/shop/web@sha256:${'a'.repeat(64)}` }]);
const build = pod([{ name: 'build', image: BUILDER_IMAGE, env: [{ name: BUILD_ENV.repository, value: `${REGISTRY}/builds/shop/api` }] }]);
const repos = nodeRepositories(REGISTRY, [app, build, pod([{ name: 'x', image: 'docker.io/library/redis:7' }])]);

describe('nodeRepositories', () => {
  test('reads the repositories of the cluster registry its pods run, and those its builds push to', () => {
    expect([...repos.pull]).toEqual(['builds/shop/web']);
    expect([...repos.push]).toEqual(['builds/shop/api']);
  });

  test("gives a pod none of another namespace's builds, to read or to push", () => {
    const other = (containers: k8s.V1Container[]): k8s.V1Pod => ({ ...pod(containers), metadata: { name: 'p', namespace: 'intruder' } });
    const stolen = nodeRepositories(REGISTRY, [
      other([{ name: 'app', image: `${REGISTRY}/builds/shop/web@sha256:${'a'.repeat(64)}` }, { name: 'odd', image: `${REGISTRY}/builds/web` }]),
      other([{ name: 'build', image: BUILDER_IMAGE, env: [{ name: BUILD_ENV.repository, value: `${REGISTRY}/builds/shop/api` }] }]),
    ]);
    expect([...stolen.pull]).toEqual([]);
    expect([...stolen.push]).toEqual([]);
    expect(decide('GET', '/v2/builds/shop/web/manifests/sha256:abc', stolen)).toMatchObject({ allowed: false, status: 403 });
  });

  test('a tag is not part of the repository, a port in the registry is', () => {
    const { pull } = nodeRepositories(REGISTRY, [pod([{ name: 'a', image: `${REGISTRY}/builds/shop/web:v1` }])]);
    expect([...pull]).toEqual(['builds/shop/web']);
  });
});

describe('decide', () => {
  test.each([
    ['GET', '/v2/'],
    ['HEAD', '/v2/lattice/busybox/manifests/1'],
    ['GET', '/v2/lattice/node/blobs/sha256:abc'],
    ['GET', '/v2/builds/shop/web/manifests/sha256:abc'],
    ['HEAD', '/v2/builds/shop/api/blobs/sha256:abc'],
    ['POST', '/v2/builds/shop/api/blobs/uploads/'],
    ['PATCH', '/v2/builds/shop/api/blobs/uploads/6f1c-uuid'],
    ['PUT', '/v2/builds/shop/api/manifests/latest'],
  ])('allows %s %s', (method, path) => {
    expect(decide(method, path, repos).allowed).toBe(true);
  });

  test.each([
    ['GET', '/v2/builds/other/web/manifests/latest', 'no pod bound to this node runs an image of builds/other/web'],
    ['PUT', '/v2/builds/shop/web/manifests/latest', 'only a build bound to this node pushes'],
    ['POST', '/v2/lattice/busybox/blobs/uploads/', 'only a build bound to this node pushes'],
    ['DELETE', '/v2/builds/shop/api/manifests/sha256:abc', 'not allowed'],
    ['GET', '/v2/_catalog', 'is not a registry path'],
    ['GET', '/v2/lattice/busybox/tags/list', 'listing tags is not allowed'],
    ['GET', '/v2/../builds/other/x/manifests/1', 'is not a registry path'],
    ['GET', '/v2/Lattice/busybox/manifests/1', 'is not a registry path'],
    ['POST', '/v2/', 'is not allowed'],
  ])('refuses %s %s', (method, path, why) => {
    const decision = decide(method, path, repos);
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) {
      expect(decision.status).toBe(403);
      expect(decision.message).toContain(why);
    }
  });
});
