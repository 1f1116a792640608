import type { Container } from '@lattice/protocol';
import { containerCapabilities, containerCreateOptions, dockerUser, nonRootViolation, sandboxCreateOptions } from './container-config.js';
import { milliCpuToShares, resourceLimits } from './resources.js';
import { CONTAINER_CAPABILITIES } from './security.js';

const spec = (overrides: Partial<Container> = {}): Container => ({
  name: 'app',
  image: 'reg/app:1',
  imagePullPolicy: 'IfNotPresent',
  command: [],
  args: [],
  env: [{ name: 'A', value: 'b=c' }],
  ports: [],
  resources: { cpuRequestMillis: 0, cpuLimitMillis: 0, memoryRequestBytes: 0, memoryLimitBytes: 0, ephemeralStorageLimitBytes: 0 },
  volumeMounts: [],
  workingDir: '',
  tty: false,
  stdin: false,
  runAsNonRoot: false,
  readOnlyRootFilesystem: false,
  addCapabilities: [],
  dropCapabilities: [],
  ...overrides,
});

const create = (container: Container) =>
  containerCreateOptions({ name: 'n', container, pod: { terminationGracePeriodSeconds: 30 }, sandboxId: 'sb', podIp: '10.88.0.5', labels: { l: 'v' }, mounts: [], imageUser: '' });

describe('container create options', () => {
  it('confines every container whatever the pod says', () => {
    const { HostConfig } = create(spec({ runAsUser: 0 }));
    expect(HostConfig).toMatchObject({
      Privileged: false,
      CapDrop: ['ALL'],
      CapAdd: [...CONTAINER_CAPABILITIES],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: 1024,
      PidMode: '',
      UTSMode: '',
      RestartPolicy: { Name: 'no' },
      NetworkMode: 'container:sb',
      IpcMode: 'container:sb',
    });
    expect(CONTAINER_CAPABILITIES).not.toContain('NET_RAW');
    expect(CONTAINER_CAPABILITIES).not.toContain('SYS_ADMIN');
  });

  it('maps command to the entrypoint and args to the command, as Kubernetes does', () => {
    expect(create(spec())).not.toHaveProperty('Entrypoint');
    expect(create(spec({ command: ['/bin/app'], args: ['--port', '80'] }))).toMatchObject({ Entrypoint: ['/bin/app'], Cmd: ['--port', '80'] });
    expect(create(spec({ args: ['serve'] }))).toMatchObject({ Cmd: ['serve'] });
    expect(create(spec({ workingDir: '/srv', tty: true, stdin: true }))).toMatchObject({ WorkingDir: '/srv', Tty: true, OpenStdin: true });
    expect(create(spec()).Env).toEqual(['A=b=c']);
    // status.podIP: the gateway cannot know it; the sandbox's address fills it in.
    expect(create(spec({ env: [{ name: 'POD_IP', value: '', fromPodIp: true }] })).Env).toEqual(['POD_IP=10.88.0.5']);
  });

  it('stops with the pod\'s grace period', () => {
    expect(create(spec()).StopTimeout).toBe(30);
  });

  it('runs the sandbox with no capability at all, on the namespace network', () => {
    const options = sandboxCreateOptions({ name: 's', image: 'pause', pod: { hostname: '', name: 'web' }, network: 'lattice-ns-a', labels: {} });
    expect(options).toMatchObject({ Hostname: 'web', HostConfig: { NetworkMode: 'lattice-ns-a', IpcMode: 'shareable', CapDrop: ['ALL'], CapAdd: [] } });
    expect(options.NetworkingConfig?.EndpointsConfig).toHaveProperty('lattice-ns-a');
  });
});

describe('user', () => {
  it('keeps the image\'s user unless told otherwise', () => {
    expect(dockerUser({}, 'postgres')).toBeUndefined();
    expect(dockerUser({ runAsUser: 1000 }, 'postgres')).toBe('1000');
    expect(dockerUser({ runAsUser: 1000, runAsGroup: 2000 }, '')).toBe('1000:2000');
    expect(dockerUser({ runAsGroup: 2000 }, 'postgres:postgres')).toBe('postgres:2000');
    expect(dockerUser({ runAsGroup: 2000 }, '')).toBe('0:2000');
  });
});

describe('resources', () => {
  it('maps limits like the kubelet: NanoCpus, Memory without swap, shares from the request', () => {
    expect(resourceLimits({ cpuRequestMillis: 250, cpuLimitMillis: 500, memoryRequestBytes: 1, memoryLimitBytes: 64 << 20, ephemeralStorageLimitBytes: 0 })).toEqual({
      CpuShares: 256,
      NanoCpus: 500_000_000,
      Memory: 64 << 20,
      MemorySwap: 64 << 20,
    });
    expect(resourceLimits({ cpuRequestMillis: 0, cpuLimitMillis: 0, memoryRequestBytes: 0, memoryLimitBytes: 0, ephemeralStorageLimitBytes: 0 })).toEqual({ CpuShares: 2 });
  });

  it("gives a container without limits the provider's offer as its limits, and keeps a container's own", () => {
    const ceiling = { cpuMillis: 2000, memoryBytes: 4 * 2 ** 30, diskBytes: 0 };
    expect(resourceLimits({ cpuRequestMillis: 0, cpuLimitMillis: 0, memoryRequestBytes: 0, memoryLimitBytes: 0, ephemeralStorageLimitBytes: 0 }, ceiling)).toEqual({
      CpuShares: 2,
      NanoCpus: 2_000_000_000,
      Memory: 4 * 2 ** 30,
      MemorySwap: 4 * 2 ** 30,
    });
    expect(resourceLimits({ cpuRequestMillis: 0, cpuLimitMillis: 500, memoryRequestBytes: 0, memoryLimitBytes: 64 << 20, ephemeralStorageLimitBytes: 0 }, ceiling)).toMatchObject({ NanoCpus: 500_000_000, Memory: 64 << 20 });
  });

  it('bounds cpu shares', () => {
    expect(milliCpuToShares(1)).toBe(2);
    expect(milliCpuToShares(1000)).toBe(1024);
    expect(milliCpuToShares(1_000_000)).toBe(262_144);
  });
});

describe("a pod's narrowing of the profile", () => {
  const pod = { name: 'web', namespace: 'shop', uid: 'u1' };

  it('drops capabilities as containerd does: ALL first, then adds back, then single drops', () => {
    const caps = (dropCapabilities: string[], addCapabilities: string[] = []) => containerCapabilities({ dropCapabilities, addCapabilities });
    expect(caps([])).toEqual([...CONTAINER_CAPABILITIES]);
    expect(caps(['ALL'])).toEqual([]);
    expect(caps(['ALL'], ['NET_BIND_SERVICE'])).toEqual(['NET_BIND_SERVICE']);
    expect(caps(['CHOWN', 'KILL'])).toEqual(CONTAINER_CAPABILITIES.filter((c) => c !== 'CHOWN' && c !== 'KILL'));
    expect(caps(['KILL'], ['KILL'])).not.toContain('KILL');
    // An add never widens the profile (the gateway refuses such pods; the agent does not rely on it).
    expect(caps(['ALL'], ['SYS_ADMIN', 'NET_RAW'])).toEqual([]);
  });

  it('makes the root file system read-only when asked', () => {
    expect(create(spec({ readOnlyRootFilesystem: true })).HostConfig?.ReadonlyRootfs).toBe(true);
    expect(create(spec()).HostConfig?.ReadonlyRootfs).toBe(false);
  });

  it("refuses a runAsNonRoot container whose user is root, in the kubelet's words", () => {
    const where = '(pod: "web_shop(u1)", container: app)';
    const check = (c: Partial<Container>, imageUser: string) => nonRootViolation({ name: 'app', runAsNonRoot: true, runAsUser: null, ...c }, imageUser, pod);
    expect(check({}, '')).toBe(`container has runAsNonRoot and image will run as root ${where}`);
    expect(check({}, '0:0')).toBe(`container has runAsNonRoot and image will run as root ${where}`);
    expect(check({}, 'postgres')).toBe(`container has runAsNonRoot and image has non-numeric user (postgres), cannot verify user is non-root ${where}`);
    expect(check({ runAsUser: 0 }, '1000')).toBe(`container's runAsUser breaks non-root policy ${where}`);
    expect(check({}, '1000:1000')).toBeUndefined();
    expect(check({ runAsUser: 1000 }, '')).toBeUndefined();
    expect(check({ runAsNonRoot: false }, '')).toBeUndefined();
  });
});
