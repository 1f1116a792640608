import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Container, Pod } from '@lattice/protocol';
import { ContainerConfigError, type PreparedVolume, containerMounts, podStateDir, prepareVolumes, resolveInside } from './volumes.js';

const withMounts = (volumeMounts: Container['volumeMounts']) => ({ volumeMounts }) as Container;
const volumes = new Map<string, PreparedVolume>([
  ['config', { kind: 'bind', path: '/state/pods/u/volumes/config' }],
  ['scratch', { kind: 'volume', name: 'lattice_u_scratch', copy: false }],
  ['data', { kind: 'volume', name: 'lattice-local-pg', copy: true }],
]);
const mount = (name: string, mountPath: string, extra: Partial<Container['volumeMounts'][number]> = {}) => ({ name, mountPath, readOnly: false, subPath: '', ...extra });

describe('paths inside a volume', () => {
  it('refuses absolute paths and ..', () => {
    expect(resolveInside('/v', 'a/b.txt', 'file path')).toBe('/v/a/b.txt');
    expect(() => resolveInside('/v', '../etc/passwd', 'file path')).toThrow(ContainerConfigError);
    expect(() => resolveInside('/v', 'a/../../x', 'file path')).toThrow(ContainerConfigError);
    expect(() => resolveInside('/v', '/etc', 'subPath')).toThrow(/must be a relative path/);
  });
});

describe('pod state directory', () => {
  it('keeps every pod under the state directory', () => {
    expect(podStateDir('/var/lib/lattice', '0123-abcd')).toBe('/var/lib/lattice/pods/0123-abcd');
    expect(() => podStateDir('/var/lib/lattice', '../../etc')).toThrow(ContainerConfigError);
    expect(() => podStateDir('/var/lib/lattice', '..')).toThrow(ContainerConfigError);
  });
});

describe("a pod's Secret files on the provider", () => {
  let stateDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'lattice-volumes-'));
    await chmod(stateDir, 0o755); // as a home directory often is
  });
  afterEach(() => rm(stateDir, { recursive: true, force: true }));

  it('are out of reach of the machine\'s other users, and keep the modes the pod asks for', async () => {
    const pod = {
      uid: 'u1',
      volumes: [{ name: 'creds', source: 'files', files: { defaultMode: 0o440, files: [{ path: 'password', content: Buffer.from('s3cret'), mode: 0 }] } }],
    } as unknown as Pod;
    // No Docker: a files volume is the agent's own files.
    const prepared = await prepareVolumes(undefined as never, 'node-a', pod, stateDir);
    const dir = (prepared.get('creds') as { path: string }).path;
    expect(await readFile(path.join(dir, 'password'), 'utf8')).toBe('s3cret');
    expect((await stat(path.join(dir, 'password'))).mode & 0o777).toBe(0o440);
    expect((await stat(path.join(stateDir, 'pods'))).mode & 0o777).toBe(0o700);
  });
});

describe('container mounts', () => {
  it('binds files volumes read-only whatever the mount says, named volumes as asked', () => {
    expect(containerMounts(withMounts([mount('config', '/etc/app'), mount('data', '/data', { readOnly: true })]), volumes, false)).toEqual([
      { Type: 'bind', Source: '/state/pods/u/volumes/config', Target: '/etc/app', ReadOnly: true },
      { Type: 'volume', Source: 'lattice-local-pg', Target: '/data', ReadOnly: true },
    ]);
  });

  it("keeps the image's files out of an emptyDir, as a kubelet does; a local volume takes them", () => {
    const [scratch, data] = containerMounts(withMounts([mount('scratch', '/tmp'), mount('data', '/var/lib/postgresql/data')]), volumes, false);
    expect(scratch?.VolumeOptions?.NoCopy).toBe(true);
    expect(data?.VolumeOptions?.NoCopy ?? false).toBe(false);
  });

  it('mounts one file of a files volume with subPath', () => {
    const [bound] = containerMounts(withMounts([mount('config', '/etc/app.conf', { subPath: 'app.conf' })]), volumes, false);
    expect(bound).toMatchObject({ Source: '/state/pods/u/volumes/config/app.conf', Target: '/etc/app.conf' });
  });

  it('uses Docker\'s volume subpaths for named volumes, and says when the engine lacks them', () => {
    const mounts = withMounts([mount('data', '/data', { subPath: 'pg' })]);
    expect(containerMounts(mounts, volumes, true)[0]?.VolumeOptions?.Subpath).toBe('pg');
    expect(() => containerMounts(mounts, volumes, false)).toThrow(/Docker Engine 26/);
  });

  it('refuses unknown volumes and relative mount paths', () => {
    expect(() => containerMounts(withMounts([mount('nope', '/x')]), volumes, true)).toThrow(/names no volume/);
    expect(() => containerMounts(withMounts([mount('data', 'x')]), volumes, true)).toThrow(/must be absolute/);
  });
});
