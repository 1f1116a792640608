import { registryAuth, registryOf, repositoryOf, withDefaultTag } from './images.js';

describe('image references', () => {
  it('pins latest on a reference without tag or digest', () => {
    expect(withDefaultTag('nginx')).toBe('nginx:latest');
    expect(withDefaultTag('localhost:5000/app')).toBe('localhost:5000/app:latest');
    expect(withDefaultTag('localhost:5000/app:1')).toBe('localhost:5000/app:1');
    expect(withDefaultTag('app@sha256:abc')).toBe('app@sha256:abc');
  });

  it('finds the repository and the registry', () => {
    expect(repositoryOf('127.0.0.1:5001/lattice/busybox:1')).toBe('127.0.0.1:5001/lattice/busybox');
    expect(repositoryOf('127.0.0.1:5001/lattice/busybox')).toBe('127.0.0.1:5001/lattice/busybox');
    expect(repositoryOf('ghcr.io/a/b@sha256:abc')).toBe('ghcr.io/a/b');
    expect(registryOf('nginx')).toBe('docker.io');
    expect(registryOf('library/nginx:1')).toBe('docker.io');
    expect(registryOf('ghcr.io/a/b')).toBe('ghcr.io');
    expect(registryOf('localhost/app')).toBe('localhost');
    expect(registryOf('127.0.0.1:5001/x')).toBe('127.0.0.1:5001');
  });
});

describe('registry credentials', () => {
  const auths = [
    { server: 'https://index.docker.io/v1/', username: 'hub', password: 'p1' },
    { server: 'ghcr.io', username: 'gh', password: 'p2' },
  ];

  it('picks the pull secret of the image\'s registry', () => {
    expect(registryAuth('nginx:1', auths)).toEqual({ username: 'hub', password: 'p1', serveraddress: 'https://index.docker.io/v1/' });
    expect(registryAuth('ghcr.io/org/app:1', auths)).toMatchObject({ username: 'gh', serveraddress: 'ghcr.io' });
  });

  it('sends no credentials to another registry', () => {
    expect(registryAuth('quay.io/org/app:1', auths)).toBeUndefined();
    expect(registryAuth('ghcr.io.evil.example/app', auths)).toBeUndefined();
  });
});
