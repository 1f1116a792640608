// The agent's Docker runtime against the real Docker engine and the local registry: pods run as
// containers with kubelet semantics. Every object created here carries this run's node name (or
// namespace, or volume prefix) and is removed in afterAll.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import Docker from 'dockerode';
import { pino } from 'pino';
import type { Container, ContainerStatus, ExecOptions, LogOptions, Pod, PodEvent, PodStatus } from '@lattice/protocol';
import { DockerRuntime, type StdioChunk } from '../../agent/src/runtime/index.js';
import { podStateDir } from '../../agent/src/runtime/volumes.js';
import { uniqueName, waitFor } from '../support/cluster.js';

const IMAGE = '127.0.0.1:5001/lattice/busybox:1';
const docker = new Docker();
const run = uniqueName('rt');
const nodeName = `node-${run}`;
const namespace = run;
const localVolumes = [`${run}-pv`, `${run}-plain`];

// Real containers, and a crash back-off of 10 s to wait out.
jest.setTimeout(120_000);

/** Everything the runtime reported, newest status per pod and the full history. */
class Reports {
  readonly history: PodStatus[] = [];
  readonly events: PodEvent[] = [];
  private readonly latest = new Map<string, PodStatus>();
  readonly onStatus = (s: PodStatus) => {
    this.latest.set(s.uid, s);
    this.history.push(s);
  };
  readonly onEvent = (e: PodEvent) => {
    this.events.push(e);
  };
  status(uid: string): PodStatus | undefined {
    return this.latest.get(uid);
  }
  container(uid: string, name: string): ContainerStatus | undefined {
    const s = this.latest.get(uid);
    return [...(s?.initContainerStatuses ?? []), ...(s?.containerStatuses ?? [])].find((c) => c.name === name);
  }
  eventsOf(uid: string): PodEvent[] {
    return this.events.filter((e) => e.podUid === uid);
  }
}

let stateDir: string;
const reports = new Reports();
let runtime: DockerRuntime;

function newRuntime(): DockerRuntime {
  return new DockerRuntime({
    docker,
    nodeName,
    images: { sandbox: IMAGE, isolation: '127.0.0.1:5001/lattice/iptables:2', git: '127.0.0.1:5001/lattice/git:2' },
    stateDir,
    logger: pino({ level: 'warn' }),
    onStatus: reports.onStatus,
    onEvent: reports.onEvent,
    ceiling: () => CEILING,
  });
}

/** What this test provider lends the cluster. */
const CEILING = { cpuMillis: 1500, memoryBytes: 768 * 1024 * 1024, diskBytes: 0 };

function container(name: string, overrides: Partial<Container> = {}): Container {
  return {
    name,
    image: IMAGE,
    imagePullPolicy: 'IfNotPresent',
    command: [],
    args: [],
    env: [],
    ports: [],
    resources: { cpuRequestMillis: 0, cpuLimitMillis: 0, memoryRequestBytes: 0, memoryLimitBytes: 0, ephemeralStorageLimitBytes: 0 },
    readinessProbe: null,
    livenessProbe: null,
    startupProbe: null,
    volumeMounts: [],
    workingDir: '',
    tty: false,
    stdin: false,
    runAsUser: null,
    runAsGroup: null,
    runAsNonRoot: false,
    readOnlyRootFilesystem: false,
    addCapabilities: [],
    dropCapabilities: [],
    ...overrides,
  };
}

/** A shell that exits at once on SIGTERM (a shell as PID 1 ignores it otherwise). */
const sleeper = (script = '') => ['sh', '-c', `trap 'exit 0' TERM; ${script} sleep 3600 & wait`];

function pod(name: string, overrides: Partial<Pod> = {}): Pod {
  return {
    uid: randomUUID(),
    namespace,
    name,
    initContainers: [],
    containers: [container('main', { command: sleeper() })],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 5,
    volumes: [],
    registryAuths: [],
    hostname: '',
    revision: '1',
    ...overrides,
  };
}

const probe = (handler: Pick<NonNullable<Container['readinessProbe']>, 'handler' | 'httpGet' | 'tcpSocket' | 'exec'>) => ({
  ...handler,
  initialDelaySeconds: 0,
  periodSeconds: 1,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 1,
});

async function waitForStatus(uid: string, what: string, test: (s: PodStatus) => boolean, timeoutMs = 60_000): Promise<PodStatus> {
  return waitFor(what, () => {
    const s = reports.status(uid);
    return s !== undefined && test(s) && s;
  }, { timeoutMs });
}

const running = (s: PodStatus) => s.phase === 'Running' && s.containerStatuses.every((c) => c.state.state === 'running');
const allReady = (s: PodStatus) => running(s) && s.containerStatuses.every((c) => c.ready);

function dockerId(status: ContainerStatus | undefined): string {
  const id = status?.containerId.replace('docker://', '');
  if (!id) throw new Error(`container ${status?.name} has no container ID`);
  return id;
}

async function collect(chunks: AsyncIterable<StdioChunk>): Promise<{ stdout: string; stderr: string; all: string }> {
  let stdout = '';
  let stderr = '';
  let all = '';
  for await (const chunk of chunks) {
    const text = chunk.data.toString();
    if (chunk.channel === 1) stdout += text;
    else stderr += text;
    all += text;
  }
  return { stdout, stderr, all };
}

const execOptions = (command: string[], overrides: Partial<ExecOptions> = {}): ExecOptions => ({
  command,
  stdin: false,
  stdout: true,
  stderr: true,
  tty: false,
  ...overrides,
});

async function execIn(uid: string, name: string, command: string[]): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const session = runtime.exec(uid, name, execOptions(command));
  const [output, exitCode] = await Promise.all([collect(session.output), session.exit]);
  return { ...output, exitCode };
}

const logOptions = (overrides: Partial<LogOptions> = {}): LogOptions => ({
  follow: false,
  tailLines: null,
  sinceSeconds: null,
  sinceTime: '',
  timestamps: false,
  previous: false,
  limitBytes: null,
  ...overrides,
});

const logsOf = (uid: string, name: string, options: Partial<LogOptions> = {}) =>
  collect(runtime.logs(uid, name, logOptions(options), new AbortController().signal));

async function containersOfPod(uid: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`lattice.dev/node=${nodeName}`, `lattice.dev/pod-uid=${uid}`] } });
}

async function volumesOfPod(uid: string): Promise<string[]> {
  const { Volumes } = await docker.listVolumes({ filters: { label: [`lattice.dev/pod-uid=${uid}`] } });
  return (Volumes ?? []).map((v) => v.Name);
}

async function removeQuietly(action: Promise<unknown>): Promise<void> {
  await action.catch(() => undefined);
}

beforeAll(async () => {
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'lattice-runtime-'));
  runtime = newRuntime();
  await runtime.start();
});

afterAll(async () => {
  await runtime?.stop();
  const containers = await docker.listContainers({ all: true, filters: { label: [`lattice.dev/node=${nodeName}`] } });
  await Promise.all(containers.map((c) => removeQuietly(docker.getContainer(c.Id).remove({ force: true }))));
  const { Volumes } = await docker.listVolumes({ filters: { label: [`lattice.dev/node=${nodeName}`] } });
  await Promise.all([...(Volumes ?? []).map((v) => v.Name), ...localVolumes].map((v) => removeQuietly(docker.getVolume(v).remove())));
  await removeQuietly(docker.getNetwork(`lattice-ns-${namespace}`).remove());
  await rm(stateDir, { recursive: true, force: true });
});

describe('DockerRuntime', () => {
  it('pulls the image through the registry, runs the pod in its sandbox and reports it Running and ready', async () => {
    const p = pod('web', { hostname: 'web-host', containers: [container('main', { command: sleeper(), imagePullPolicy: 'Always' })] });
    await runtime.upsert(p);
    const status = await waitForStatus(p.uid, 'the pod Running and ready', allReady);

    expect(status.podIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(Date.parse(status.startTime)).not.toBeNaN();
    const main = status.containerStatuses[0]!;
    expect(main).toMatchObject({ name: 'main', ready: true, started: true, restartCount: 0, image: IMAGE, lastState: null });
    expect(main.imageId).toMatch(/^127\.0\.0\.1:5001\/lattice\/busybox@sha256:[0-9a-f]{64}$/);
    expect(main.containerId).toMatch(/^docker:\/\/[0-9a-f]{64}$/);
    const reasons = reports.eventsOf(p.uid).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Pulling', 'Pulled', 'Created', 'Started']));
    expect(reasons.indexOf('Pulling')).toBeLessThan(reasons.indexOf('Started'));

    const info = await docker.getContainer(dockerId(main)).inspect();
    expect(info.Name).toBe(`/lattice_${namespace}_web_main_${p.uid.slice(0, 8)}_0`);
    expect(info.Config.Labels).toMatchObject({
      'lattice.dev/node': nodeName,
      'lattice.dev/pod-uid': p.uid,
      'lattice.dev/pod-namespace': namespace,
      'lattice.dev/pod-name': 'web',
      'lattice.dev/container': 'main',
      'lattice.dev/revision': '1',
      'lattice.dev/restart-count': '0',
    });
    const sandboxId = info.HostConfig.NetworkMode?.replace('container:', '') ?? '';
    const sandbox = await docker.getContainer(sandboxId).inspect();
    expect(sandbox.Config.Labels['lattice.dev/container']).toBe('_sandbox');
    expect(sandbox.NetworkSettings.Networks[`lattice-ns-${namespace}`]?.IPAddress).toBe(status.podIp);
    const network = await docker.getNetwork(`lattice-ns-${namespace}`).inspect();
    expect(network.Labels).toMatchObject({ 'lattice.dev/namespace': namespace });
    expect((await execIn(p.uid, 'main', ['hostname'])).stdout.trim()).toBe('web-host');

    await runtime.remove(p.uid, 5);
  });

  it('applies resource limits and the security profile', async () => {
    const p = pod('limits', {
      containers: [
        container('main', {
          command: sleeper(),
          runAsUser: 65534,
          runAsGroup: 65534,
          resources: { cpuRequestMillis: 250, cpuLimitMillis: 500, memoryRequestBytes: 0, memoryLimitBytes: 64 * 1024 * 1024, ephemeralStorageLimitBytes: 0 },
        }),
      ],
    });
    await runtime.upsert(p);
    const status = await waitForStatus(p.uid, 'the pod Running', running);
    const { HostConfig, Config } = await docker.getContainer(dockerId(status.containerStatuses[0])).inspect();

    expect(HostConfig).toMatchObject({
      Memory: 64 * 1024 * 1024,
      MemorySwap: 64 * 1024 * 1024,
      NanoCpus: 500_000_000,
      CpuShares: 256,
      PidsLimit: 1024,
      Privileged: false,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      RestartPolicy: { Name: 'no' },
    });
    expect([...(HostConfig.CapAdd ?? [])].sort()).toEqual(
      ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'NET_BIND_SERVICE', 'SETGID', 'SETUID'].sort(),
    );
    expect(HostConfig.NetworkMode).toMatch(/^container:[0-9a-f]{64}$/);
    expect(HostConfig.PidMode ?? '').toBe('');
    expect(HostConfig.Binds ?? []).toEqual([]);
    expect(Config.User).toBe('65534:65534');
    expect((await execIn(p.uid, 'main', ['id', '-u'])).stdout.trim()).toBe('65534');

    await runtime.remove(p.uid, 5);
  });

  it("narrows the profile as the pod's securityContext asks: dropped capabilities, a read-only root, runAsNonRoot as the kubelet checks it", async () => {
    const p = pod('narrowed', {
      containers: [
        container('main', { command: sleeper(), runAsUser: 1000, runAsNonRoot: true, readOnlyRootFilesystem: true, dropCapabilities: ['ALL'], addCapabilities: ['NET_BIND_SERVICE'] }),
        // The image's user is root: it must not start.
        container('root', { command: sleeper(), runAsNonRoot: true }),
      ],
    });
    await runtime.upsert(p);
    const status = await waitForStatus(p.uid, 'main running, root refused', (s) =>
      s.containerStatuses[0]?.state.state === 'running' && s.containerStatuses[1]?.state.waiting?.reason === 'CreateContainerConfigError');
    expect(status.containerStatuses[1]?.state.waiting?.message).toBe(`container has runAsNonRoot and image will run as root (pod: "narrowed_${namespace}(${p.uid})", container: root)`);
    const { HostConfig } = await docker.getContainer(dockerId(status.containerStatuses[0])).inspect();
    expect(HostConfig).toMatchObject({ CapDrop: ['ALL'], CapAdd: ['NET_BIND_SERVICE'], ReadonlyRootfs: true });
    expect(await execIn(p.uid, 'main', ['sh', '-c', 'touch /written 2>&1; grep CapBnd /proc/self/status'])).toMatchObject({
      stdout: expect.stringMatching(/Read-only file system[\s\S]*CapBnd:\s+0000000000000400/),
    });
    await runtime.remove(p.uid, 5);
  });

  it("bounds a container that sets no limits by what the provider lends, not its whole machine", async () => {
    const p = pod('unbounded', { containers: [container('main', { command: sleeper() })] });
    await runtime.upsert(p);
    const status = await waitForStatus(p.uid, 'the pod Running', running);
    const { HostConfig } = await docker.getContainer(dockerId(status.containerStatuses[0])).inspect();
    expect(HostConfig).toMatchObject({ Memory: CEILING.memoryBytes, MemorySwap: CEILING.memoryBytes, NanoCpus: CEILING.cpuMillis * 1_000_000 });
    await runtime.remove(p.uid, 5);
  });

  it('reports ErrImagePull then ImagePullBackOff, with a Failed event, for an image it cannot pull', async () => {
    const image = '127.0.0.1:5001/lattice/does-not-exist:1';
    const p = pod('badimage', { containers: [container('main', { image, imagePullPolicy: 'Always' })] });
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'ImagePullBackOff', (s) => s.containerStatuses[0]?.state.waiting?.reason === 'ImagePullBackOff');

    const reasons = reports.history
      .filter((s) => s.uid === p.uid)
      .map((s) => s.containerStatuses[0]?.state.waiting?.reason)
      .filter((r, i, all) => r !== all[i - 1]);
    expect(reasons).toEqual(expect.arrayContaining(['ErrImagePull', 'ImagePullBackOff']));
    expect(reasons.indexOf('ErrImagePull')).toBeLessThan(reasons.indexOf('ImagePullBackOff'));
    const errImagePull = reports.history.find((s) => s.uid === p.uid && s.containerStatuses[0]?.state.waiting?.reason === 'ErrImagePull');
    expect(errImagePull?.containerStatuses[0]?.state.waiting?.message).toMatch(/not found|unknown|does-not-exist/i);
    expect(reports.status(p.uid)?.phase).toBe('Pending');
    expect(reports.eventsOf(p.uid)).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'Failed', message: expect.stringContaining(`Failed to pull image "${image}"`) }),
    );

    await runtime.remove(p.uid, 5);
  });

  it('runs init containers first, in order and to completion', async () => {
    const p = pod('init', {
      volumes: [{ name: 'work', source: 'emptyDir', emptyDir: { medium: '', sizeLimitBytes: 0 } }],
      initContainers: [
        container('first', { command: ['sh', '-c', 'echo first >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work', readOnly: false, subPath: '' }] }),
        container('second', { command: ['sh', '-c', 'echo second >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work', readOnly: false, subPath: '' }] }),
      ],
      containers: [container('main', { command: sleeper('echo main >> /work/order;'), volumeMounts: [{ name: 'work', mountPath: '/work', readOnly: false, subPath: '' }] })],
    });
    await runtime.upsert(p);
    const status = await waitForStatus(p.uid, 'the pod Running after its init containers', running);

    for (const init of status.initContainerStatuses) {
      expect(init.state).toMatchObject({ state: 'terminated', terminated: { exitCode: 0, reason: 'Completed' } });
      expect(init.ready).toBe(true);
    }
    expect((await execIn(p.uid, 'main', ['cat', '/work/order'])).stdout).toBe('first\nsecond\nmain\n');
    const started = reports.eventsOf(p.uid).filter((e) => e.reason === 'Started').map((e) => e.message);
    expect(started).toEqual(['Started container first', 'Started container second', 'Started container main']);
    const phases = reports.history.filter((s) => s.uid === p.uid).map((s) => s.phase);
    expect(phases[0]).toBe('Pending');

    await runtime.remove(p.uid, 5);
  });

  it('lets the containers of a pod reach each other on localhost, with tcpSocket startup and readiness probes', async () => {
    const tcp = probe({ handler: 'tcpSocket', tcpSocket: { port: 8080 } });
    // The startup probe may run before httpd listens: it tolerates a few failures.
    const startup = { ...tcp, failureThreshold: 30 };
    const p = pod('localhost', {
      terminationGracePeriodSeconds: 1, // httpd as PID 1 ignores SIGTERM
      containers: [
        container('web', {
          command: ['sh', '-c', 'mkdir -p /tmp/www && echo hello-from-web > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www'],
          startupProbe: startup,
          readinessProbe: tcp,
        }),
        container('client', { command: sleeper() }),
      ],
    });
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'both containers ready', allReady);

    const fetched = await execIn(p.uid, 'client', ['wget', '-qO-', 'http://127.0.0.1:8080/']);
    expect(fetched).toMatchObject({ stdout: 'hello-from-web\n', exitCode: 0 });

    await runtime.remove(p.uid, 1);
  });

  it('restarts a crashing container with back-off, counting restarts and keeping the last exit code', async () => {
    const p = pod('crash', { containers: [container('main', { command: ['sh', '-c', 'echo run-$(date +%s); exit 3'] })] });
    await runtime.upsert(p);
    const status = await waitForStatus(
      p.uid,
      'two restarts',
      (s) => (s.containerStatuses[0]?.restartCount ?? 0) >= 2,
      60_000,
    );

    const main = status.containerStatuses[0]!;
    expect(main.lastState).toMatchObject({ state: 'terminated', terminated: { exitCode: 3, reason: 'Error' } });
    expect(status.phase).toBe('Running');
    const backOff = reports.history.find((s) => s.uid === p.uid && s.containerStatuses[0]?.state.waiting?.reason === 'CrashLoopBackOff');
    expect(backOff?.containerStatuses[0]?.state.waiting?.message).toContain('back-off 10s restarting failed container=main');
    expect(backOff?.containerStatuses[0]?.lastState?.terminated?.exitCode).toBe(3);
    expect(reports.eventsOf(p.uid)).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'BackOff' }));
    // Docker keeps the last two runs; the second restart waited out the 10 s back-off after the first.
    const runs = await containersOfPod(p.uid);
    const runOf = async (restart: string) => {
      const found = runs.find((c) => c.Labels['lattice.dev/restart-count'] === restart && c.Labels['lattice.dev/container'] === 'main');
      return docker.getContainer(found!.Id).inspect();
    };
    const [first, second] = [await runOf('1'), await runOf('2')];
    expect(Date.parse(second.State.StartedAt) - Date.parse(first.State.FinishedAt)).toBeGreaterThanOrEqual(9_500);
    expect(runs.map((c) => c.Labels['lattice.dev/restart-count']).sort()).toEqual(['0', '1', '2']); // with the sandbox's 0

    const current = await waitFor('the current run logged', async () => (await logsOf(p.uid, 'main')).stdout || undefined);
    const previous = (await logsOf(p.uid, 'main', { previous: true })).stdout;
    expect(current).toMatch(/^run-\d+\n$/);
    expect(previous).toMatch(/^run-\d+\n$/);
    expect(previous).not.toBe(current);

    await runtime.remove(p.uid, 5);
  });

  it('fails a pod with restart policy Never with its exit code, OOMKilled when over its memory limit', async () => {
    const failing = pod('never', { restartPolicy: 'Never', containers: [container('main', { command: ['sh', '-c', 'exit 7'] })] });
    const oom = pod('oom', {
      restartPolicy: 'Never',
      containers: [
        container('main', {
          // Doubles a shell string until the kernel kills it at the 16 MiB limit.
          command: ['sh', '-c', 'x=x; while true; do x=$x$x; done'],
          resources: { cpuRequestMillis: 0, cpuLimitMillis: 0, memoryRequestBytes: 0, memoryLimitBytes: 16 * 1024 * 1024, ephemeralStorageLimitBytes: 0 },
        }),
      ],
    });
    const succeeding = pod('onfailure', { restartPolicy: 'OnFailure', containers: [container('main', { command: ['true'] })] });
    await Promise.all([runtime.upsert(failing), runtime.upsert(oom), runtime.upsert(succeeding)]);

    const failed = await waitForStatus(failing.uid, 'the pod Failed', (s) => s.phase === 'Failed');
    expect(failed.containerStatuses[0]).toMatchObject({
      restartCount: 0,
      ready: false,
      state: { state: 'terminated', terminated: { exitCode: 7, reason: 'Error' } },
    });
    const killed = await waitForStatus(oom.uid, 'the pod Failed', (s) => s.phase === 'Failed');
    expect(killed.containerStatuses[0]?.state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    const done = await waitForStatus(succeeding.uid, 'the pod Succeeded', (s) => s.phase === 'Succeeded');
    expect(done.containerStatuses[0]?.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });

    await Promise.all([failing, oom, succeeding].map((x) => runtime.remove(x.uid, 5)));
  });

  it('flips ready with an httpGet readiness probe', async () => {
    const p = pod('ready', {
      terminationGracePeriodSeconds: 1, // httpd as PID 1 ignores SIGTERM
      containers: [
        container('web', {
          command: ['sh', '-c', 'mkdir -p /tmp/www && exec httpd -f -p 8080 -h /tmp/www'],
          readinessProbe: probe({ handler: 'httpGet', httpGet: { path: '/ready', port: 8080, scheme: 'HTTP', headers: [] } }),
        }),
      ],
    });
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'running, not ready', (s) => running(s) && !s.containerStatuses[0]?.ready);
    const unhealthy = await waitFor('an Unhealthy event for the 404', () =>
      reports.eventsOf(p.uid).find((e) => e.reason === 'Unhealthy' && e.message.includes('statuscode: 404')),
    );
    expect(unhealthy).toMatchObject({ type: 'Warning', message: 'Readiness probe failed: HTTP probe failed with statuscode: 404' });
    expect(reports.status(p.uid)?.containerStatuses[0]?.ready).toBe(false);

    await execIn(p.uid, 'web', ['touch', '/tmp/www/ready']);
    await waitForStatus(p.uid, 'ready', allReady);
    await execIn(p.uid, 'web', ['rm', '/tmp/www/ready']);
    await waitForStatus(p.uid, 'not ready again', (s) => running(s) && !s.containerStatuses[0]?.ready);

    await runtime.remove(p.uid, 1);
  });

  it('runs the postStart hook before the probes and the preStop hook before stopping, as a kubelet does', async () => {
    const exec = (script: string) => probe({ handler: 'exec', exec: { command: ['sh', '-c', script] } });
    const p = pod('hooks', {
      terminationGracePeriodSeconds: 5,
      volumes: [{ name: 'work', source: 'emptyDir', emptyDir: { medium: '', sizeLimitBytes: 0 } }],
      containers: [
        container('main', {
          command: sleeper('touch /tmp/healthy;'),
          volumeMounts: [{ name: 'work', mountPath: '/work', readOnly: false, subPath: '' }],
          // Its readiness needs what postStart leaves; a liveness failure makes it stop, and preStop leaves a mark that outlives it.
          postStart: exec('echo started > /work/post-start'),
          preStop: exec('echo "stopped $(cat /work/post-start)" >> /work/pre-stop'),
          readinessProbe: exec('test -f /work/post-start'),
          livenessProbe: probe({ handler: 'exec', exec: { command: ['cat', '/tmp/healthy'] } }),
        }),
      ],
    });
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'running and ready', allReady);
    await execIn(p.uid, 'main', ['rm', '/tmp/healthy']);
    await waitForStatus(p.uid, 'restarted and ready', (s) => allReady(s) && s.containerStatuses[0]?.restartCount === 1);
    expect((await execIn(p.uid, 'main', ['cat', '/work/pre-stop'])).stdout).toBe('stopped started\n');
    await runtime.remove(p.uid, 5);
  });

  it('kills a container whose postStart hook fails, with the event, and restarts it', async () => {
    const p = pod('failed-hook', {
      terminationGracePeriodSeconds: 1,
      containers: [container('main', { command: sleeper(), postStart: probe({ handler: 'exec', exec: { command: ['sh', '-c', 'echo no way; exit 3'] } }) })],
    });
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'restarted after its hook failed', (s) => (s.containerStatuses[0]?.restartCount ?? 0) >= 1);
    expect(reports.eventsOf(p.uid)).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'FailedPostStartHook', message: 'PostStart hook of container main failed: no way' }));
    await runtime.remove(p.uid, 5);
  });

  it('restarts a container whose exec liveness probe fails', async () => {
    const p = pod('liveness', {
      terminationGracePeriodSeconds: 1,
      containers: [
        container('main', {
          command: sleeper('touch /tmp/healthy;'),
          livenessProbe: probe({ handler: 'exec', exec: { command: ['cat', '/tmp/healthy'] } }),
        }),
      ],
    });
    await runtime.upsert(p);
    const before = await waitForStatus(p.uid, 'running', allReady);

    await execIn(p.uid, 'main', ['rm', '/tmp/healthy']);
    const after = await waitForStatus(p.uid, 'restarted and running', (s) => running(s) && s.containerStatuses[0]?.restartCount === 1);
    expect(after.containerStatuses[0]?.containerId).not.toBe(before.containerStatuses[0]?.containerId);
    expect(after.containerStatuses[0]?.lastState?.state).toBe('terminated');
    const events = reports.eventsOf(p.uid);
    expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'Unhealthy', message: expect.stringContaining('Liveness probe failed') }));
    expect(events).toContainEqual(expect.objectContaining({ reason: 'Killing', message: 'Container main failed liveness probe, will be restarted' }));

    await runtime.remove(p.uid, 5);
  });

  it('mounts files volumes read-only and shares an emptyDir between containers; both go with the pod', async () => {
    const p = pod('volumes', {
      volumes: [
        {
          name: 'config',
          source: 'files',
          files: {
            defaultMode: 0o644,
            files: [
              { path: 'app.conf', content: Buffer.from('key=value\n'), mode: 0o640 },
              { path: 'nested/extra.txt', content: Buffer.from('extra'), mode: 0 },
            ],
          },
        },
        { name: 'shared', source: 'emptyDir', emptyDir: { medium: '', sizeLimitBytes: 0 } },
        { name: 'scratch', source: 'emptyDir', emptyDir: { medium: 'Memory', sizeLimitBytes: 8 * 1024 * 1024 } },
      ],
      containers: [
        container('writer', {
          command: sleeper('echo from-writer > /shared/data; echo in-memory > /scratch/data;'),
          volumeMounts: [
            { name: 'shared', mountPath: '/shared', readOnly: false, subPath: '' },
            { name: 'scratch', mountPath: '/scratch', readOnly: false, subPath: '' },
          ],
        }),
        container('reader', {
          command: sleeper(),
          volumeMounts: [
            { name: 'shared', mountPath: '/shared', readOnly: true, subPath: '' },
            { name: 'scratch', mountPath: '/scratch', readOnly: false, subPath: '' },
            { name: 'config', mountPath: '/etc/app', readOnly: false, subPath: '' },
            { name: 'config', mountPath: '/etc/single.conf', readOnly: false, subPath: 'app.conf' },
          ],
        }),
      ],
    });
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'running', running);

    expect((await execIn(p.uid, 'reader', ['cat', '/etc/app/app.conf'])).stdout).toBe('key=value\n');
    expect((await execIn(p.uid, 'reader', ['stat', '-c', '%a', '/etc/app/app.conf', '/etc/app/nested/extra.txt'])).stdout).toBe('640\n644\n');
    expect((await execIn(p.uid, 'reader', ['cat', '/etc/single.conf'])).stdout).toBe('key=value\n');
    expect((await execIn(p.uid, 'reader', ['sh', '-c', 'echo x > /etc/app/new'])).exitCode).not.toBe(0);
    await waitFor('the writer\'s data in the reader', async () => (await execIn(p.uid, 'reader', ['cat', '/shared/data'])).stdout === 'from-writer\n');
    await waitFor('the in-memory emptyDir shared', async () => (await execIn(p.uid, 'reader', ['cat', '/scratch/data'])).stdout === 'in-memory\n');
    expect((await execIn(p.uid, 'reader', ['sh', '-c', 'echo x > /shared/other'])).exitCode).not.toBe(0);
    expect((await execIn(p.uid, 'reader', ['df', '/scratch'])).stdout).toMatch(/tmpfs\s+8192\s/);
    expect(await volumesOfPod(p.uid)).toHaveLength(2);
    expect(existsSync(path.join(stateDir, 'pods', p.uid))).toBe(true);

    await runtime.remove(p.uid, 5);
    expect(await volumesOfPod(p.uid)).toEqual([]);
    expect(existsSync(path.join(stateDir, 'pods', p.uid))).toBe(false);
  });

  it("gives every user of the pod's containers an empty, writable emptyDir, whatever the image has at its path, as a kubelet does", async () => {
    const mount = (name: string, mountPath: string) => ({ name, mountPath, readOnly: false, subPath: '' });
    const p = pod('emptydir-modes', {
      volumes: [
        { name: 'var', source: 'emptyDir', emptyDir: { medium: '', sizeLimitBytes: 0 } },
        { name: 'home', source: 'emptyDir', emptyDir: { medium: 'Memory', sizeLimitBytes: 1024 * 1024 } },
      ],
      // The image has /var/www in /var, and /home root-owned 0755: neither may reach the volumes.
      containers: [container('app', { command: sleeper(), runAsUser: 1000, volumeMounts: [mount('var', '/var'), mount('home', '/home')] })],
    });
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'running', running);
    expect((await execIn(p.uid, 'app', ['ls', '-A', '/var'])).stdout).toBe('');
    expect((await execIn(p.uid, 'app', ['stat', '-c', '%a', '/var'])).stdout).toBe('777\n');
    expect(await execIn(p.uid, 'app', ['sh', '-c', 'echo x > /var/written && echo x > /home/written'])).toMatchObject({ exitCode: 0, stderr: '' });
    await runtime.remove(p.uid, 5);
  });

  it("keeps a memory-backed emptyDir's contents while the pod's only container restarts, as a kubelet does", async () => {
    // The first run leaves a line and fails; the second finds it and stays.
    const script = 'echo run >> /cache/runs; [ "$(wc -l < /cache/runs)" -ge 2 ] || exit 1; exec sleep 3600';
    const p = pod('memory-emptydir-restart', {
      terminationGracePeriodSeconds: 1,
      volumes: [{ name: 'cache', source: 'emptyDir', emptyDir: { medium: 'Memory', sizeLimitBytes: 1024 * 1024 } }],
      containers: [container('main', { command: ['sh', '-c', script], volumeMounts: [{ name: 'cache', mountPath: '/cache', readOnly: false, subPath: '' }] })],
    });
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'restarted once and running', (s) => running(s) && s.containerStatuses[0]?.restartCount === 1);
    expect((await execIn(p.uid, 'main', ['cat', '/cache/runs'])).stdout).toBe('run\nrun\n');
    await runtime.remove(p.uid, 5);
  });

  it('keeps a local volume after its pod is removed, until deleteVolume', async () => {
    const [volumeName, plain] = localVolumes as [string, string];
    const withVolume = (name: string, script: string) =>
      pod(name, {
        volumes: [{ name: 'data', source: 'local', local: { volumeName } }],
        containers: [container('main', { command: sleeper(script), volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: false, subPath: '' }] })],
      });
    const first = withVolume('keeper-1', 'echo persisted > /data/file;');
    await runtime.upsert(first);
    await waitForStatus(first.uid, 'running', running);
    await waitFor('the file written', async () => (await execIn(first.uid, 'main', ['cat', '/data/file'])).stdout === 'persisted\n');
    await runtime.remove(first.uid, 5);

    const volume = await docker.getVolume(volumeName).inspect();
    expect(volume.Labels).toMatchObject({ 'lattice.dev/local-volume': volumeName });
    const second = withVolume('keeper-2', '');
    await runtime.upsert(second);
    await waitForStatus(second.uid, 'running', running);
    expect((await execIn(second.uid, 'main', ['cat', '/data/file'])).stdout).toBe('persisted\n');
    await runtime.remove(second.uid, 5);

    await runtime.deleteVolume(volumeName);
    await expect(docker.getVolume(volumeName).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await runtime.deleteVolume(volumeName); // already gone: nothing to do

    await docker.createVolume({ Name: plain });
    await expect(runtime.deleteVolume(plain)).rejects.toThrow(/not a lattice-local volume/);
    expect((await docker.getVolume(plain).inspect()).Name).toBe(plain);
  });

  it('serves logs with tail, timestamps, limitBytes, and follows new lines', async () => {
    // stdout and stderr are copied to the log separately: only a pause orders lines across them.
    const p = pod('logs', { containers: [container('main', { command: sleeper('echo one; echo two >&2; sleep 1; echo three;') })] });
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'running', running);
    await waitFor('the first lines logged', async () => (await logsOf(p.uid, 'main')).all.length === 14);

    const full = await logsOf(p.uid, 'main');
    expect(full).toMatchObject({ stdout: 'one\nthree\n', stderr: 'two\n' });
    expect((await logsOf(p.uid, 'main', { tailLines: 1 })).all).toBe('three\n');
    expect((await logsOf(p.uid, 'main', { limitBytes: 6 })).all).toBe(full.all.slice(0, 6));
    const stamped = (await logsOf(p.uid, 'main', { timestamps: true })).stdout.split('\n').filter(Boolean);
    expect(stamped).toHaveLength(2);
    for (const line of stamped) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z (one|three)$/);
    expect((await logsOf(p.uid, 'main', { sinceTime: new Date(Date.now() + 60_000).toISOString() })).all).toBe('');

    const abort = new AbortController();
    const followed: string[] = [];
    const following = (async () => {
      for await (const chunk of runtime.logs(p.uid, 'main', logOptions({ follow: true, tailLines: 0 }), abort.signal)) {
        followed.push(chunk.data.toString());
      }
    })();
    // Written to the main process's stdout from outside it: the log grows while it is followed.
    await waitFor('a new line followed', async () => {
      await execIn(p.uid, 'main', ['sh', '-c', 'echo live-line > /proc/1/fd/1']);
      return followed.join('').includes('live-line\n');
    });
    abort.abort();
    await following;
    expect(followed.join('')).not.toContain('one');

    await runtime.remove(p.uid, 5);
  });

  it('runs exec sessions with and without a TTY, with stdin, returning the exit code', async () => {
    const p = pod('exec');
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'running', running);

    const plain = runtime.exec(p.uid, 'main', execOptions(['sh', '-c', 'read line; echo got:$line; echo oops >&2; exit 5'], { stdin: true }));
    plain.write(Buffer.from('hello\n'));
    plain.end();
    const [plainOut, plainExit] = await Promise.all([collect(plain.output), plain.exit]);
    expect(plainOut).toMatchObject({ stdout: 'got:hello\n', stderr: 'oops\n' });
    expect(plainExit).toBe(5);

    const tty = runtime.exec(p.uid, 'main', execOptions(['sh'], { stdin: true, tty: true, stderr: false }));
    let ttyOut = '';
    const ttyRead = (async () => {
      for await (const chunk of tty.output) {
        expect(chunk.channel).toBe(1);
        ttyOut += chunk.data.toString();
      }
    })();
    tty.resize(120, 40);
    // The resize and the input travel separately: ask until the terminal has its new size.
    await waitFor('the terminal resized', () => {
      tty.write(Buffer.from('stty size\n'));
      return ttyOut.includes('40 120');
    }, { intervalMs: 200, timeoutMs: 10_000 });
    tty.write(Buffer.from('exit 6\n'));
    await ttyRead;
    expect(await tty.exit).toBe(6);

    expect(() => runtime.exec(p.uid, 'nope', execOptions(['true']))).toThrow(/not valid for pod/);
    await runtime.remove(p.uid, 5);
  });

  it('honours the grace period on remove: SIGTERM first, SIGKILL when it runs out', async () => {
    const stubborn = pod('stubborn', { terminationGracePeriodSeconds: 3, containers: [container('main', { command: ['sh', '-c', 'sleep 3600'] })] });
    const polite = pod('polite', { terminationGracePeriodSeconds: 30 });
    await Promise.all([runtime.upsert(stubborn), runtime.upsert(polite)]);
    await Promise.all([waitForStatus(stubborn.uid, 'running', running), waitForStatus(polite.uid, 'running', running)]);

    // A shell as PID 1 ignores SIGTERM: it only goes when the grace runs out.
    let started = Date.now();
    await runtime.remove(stubborn.uid, 3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
    // One that exits on SIGTERM goes at once, long before its 30 s.
    started = Date.now();
    await runtime.remove(polite.uid, 30);
    expect(Date.now() - started).toBeLessThan(10_000);

    for (const p of [stubborn, polite]) {
      expect(await containersOfPod(p.uid)).toEqual([]);
      expect(reports.status(p.uid)).toMatchObject({ deleted: true });
      expect(reports.eventsOf(p.uid)).toContainEqual(expect.objectContaining({ reason: 'Killing', message: 'Stopping container main' }));
    }
    expect(reports.status(stubborn.uid)?.containerStatuses[0]?.state.terminated?.exitCode).toBe(137);
    expect(reports.status(polite.uid)?.containerStatuses[0]?.state.terminated?.exitCode).toBe(0);
  });

  it("removes a pod whose /etc/hosts is rewritten as it goes (its namespace's Services changing)", async () => {
    const p = pod('hosts-churn');
    await runtime.upsert(p);
    await waitForStatus(p.uid, 'running', running);
    let churning = true;
    const churn = (async () => {
      while (churning) {
        runtime.servicesChanged(namespace);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    try {
      await runtime.remove(p.uid, 5);
    } finally {
      churning = false;
      await churn;
    }
    expect(reports.status(p.uid)?.deleted).toBe(true);
    expect(existsSync(podStateDir(stateDir, p.uid))).toBe(false);
  });

  it('re-creates the containers of a pod whose revision changed, keeping its sandbox', async () => {
    const p = pod('revision', {
      volumes: [{ name: 'config', source: 'files', files: { defaultMode: 0o644, files: [{ path: 'v', content: Buffer.from('1'), mode: 0 }] } }],
      containers: [container('main', { command: sleeper(), volumeMounts: [{ name: 'config', mountPath: '/config', readOnly: true, subPath: '' }] })],
    });
    await runtime.upsert(p);
    const before = await waitForStatus(p.uid, 'running', running);
    await runtime.upsert({ ...p });
    expect(reports.status(p.uid)?.containerStatuses[0]?.containerId).toBe(before.containerStatuses[0]?.containerId);

    const changed: Pod = {
      ...p,
      revision: '2',
      volumes: [{ name: 'config', source: 'files', files: { defaultMode: 0o644, files: [{ path: 'v', content: Buffer.from('2'), mode: 0 }] } }],
    };
    await runtime.upsert(changed);
    const after = await waitForStatus(p.uid, 'running again', (s) => running(s) && s.containerStatuses[0]?.containerId !== before.containerStatuses[0]?.containerId);
    expect(after.podIp).toBe(before.podIp);
    expect(after.containerStatuses[0]?.restartCount).toBe(1);
    expect((await execIn(p.uid, 'main', ['cat', '/config/v'])).stdout).toBe('2');
    const info = await docker.getContainer(dockerId(after.containerStatuses[0])).inspect();
    expect(info.Config.Labels['lattice.dev/revision']).toBe('2');

    await runtime.remove(p.uid, 5);
  });

  it('replaces a sandbox that died, restarting the pod\'s containers in the new one', async () => {
    const p = pod('sandbox');
    await runtime.upsert(p);
    const before = await waitForStatus(p.uid, 'running', running);
    const { HostConfig } = await docker.getContainer(dockerId(before.containerStatuses[0])).inspect();
    const oldSandbox = HostConfig.NetworkMode!.replace('container:', '');

    await docker.getContainer(oldSandbox).kill();
    const after = await waitForStatus(p.uid, 'running in a new sandbox', (s) => running(s) && s.containerStatuses[0]?.restartCount === 1);
    expect(reports.eventsOf(p.uid)).toContainEqual(expect.objectContaining({ reason: 'SandboxChanged' }));
    const { HostConfig: newHostConfig } = await docker.getContainer(dockerId(after.containerStatuses[0])).inspect();
    expect(newHostConfig.NetworkMode).not.toBe(HostConfig.NetworkMode);
    await expect(docker.getContainer(oldSandbox).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await execIn(p.uid, 'main', ['hostname'])).stdout.trim()).toBe('sandbox');

    await runtime.remove(p.uid, 5);
  });

  it('adopts its containers after an agent restart without restarting them, and sync removes orphans', async () => {
    const kept = pod('kept', {
      containers: [container('main', { command: sleeper(), readinessProbe: probe({ handler: 'exec', exec: { command: ['true'] } }) })],
    });
    const orphan = pod('orphan');
    await Promise.all([runtime.upsert(kept), runtime.upsert(orphan)]);
    const before = await waitForStatus(kept.uid, 'ready', allReady);
    await waitForStatus(orphan.uid, 'running', running);
    const keptId = dockerId(before.containerStatuses[0]);
    const startedAt = (await docker.getContainer(keptId).inspect()).State.StartedAt;

    // The agent goes away; its containers stay. A new agent starts and is told the desired pods.
    await runtime.stop();
    const mark = reports.history.length;
    runtime = newRuntime();
    await runtime.start();
    await runtime.sync([kept]);

    const after = await waitFor('ready after adoption', () => reports.history.slice(mark).find((s) => s.uid === kept.uid && allReady(s)));
    expect(after.containerStatuses[0]).toMatchObject({ containerId: before.containerStatuses[0]?.containerId, restartCount: 0 });
    expect(after.podIp).toBe(before.podIp);
    expect(after.startTime).toBe(before.startTime);
    const info = await docker.getContainer(keptId).inspect();
    expect(info.State).toMatchObject({ Running: true, StartedAt: startedAt });
    expect(await containersOfPod(orphan.uid)).toEqual([]);
    expect(reports.status(orphan.uid)).toMatchObject({ deleted: true });

    // The last pod of the namespace takes its network with it.
    await runtime.sync([]);
    expect(await containersOfPod(kept.uid)).toEqual([]);
    await expect(docker.getNetwork(`lattice-ns-${namespace}`).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
