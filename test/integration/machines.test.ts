// The test bed of provider machines (hack/machines, test/support/machines.ts): each machine is a
// network namespace behind NAT with a Docker engine of its own; from it the host answers only at
// the cluster's public address, where the public registry mirrors Docker Hub's names.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { stateDir, waitFor } from '../support/cluster.js';
import { PUBLIC_ADDRESS, PUBLIC_REGISTRY, connectFrom, createMachine, removeAllMachines, removeMachine, spawnInMachine, type Machine, type MachineProcess } from '../support/machines.js';

const run = promisify(execFile);
const hostDocker = new Docker();
const LOOPBACK_REGISTRY = process.env.LATTICE_REGISTRY ?? '127.0.0.1:5001';
const PUBLIC_BUSYBOX = 'busybox:1.36';

let m1: Machine;
let m2: Machine;
const spawned: MachineProcess[] = [];

beforeAll(async () => {
  [m1, m2] = await Promise.all([createMachine(), createMachine()]);
}, 120_000);

afterAll(async () => {
  for (const p of spawned) p.child.kill('SIGKILL');
  await removeAllMachines();
}, 120_000);

async function pull(docker: Docker, ref: string): Promise<void> {
  const stream = await docker.pull(ref);
  await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(undefined))));
}

/** Runs a command in a new container of this engine; resolves with its exit code and output. */
async function runContainer(docker: Docker, image: string, cmd: string[]): Promise<{ code: number; output: string }> {
  const container = await docker.createContainer({ Image: image, Cmd: cmd });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    // The log stream is multiplexed (8-byte frame headers); the text is what matters.
    const logs = await container.logs({ stdout: true, stderr: true });
    return { code: StatusCode, output: logs.toString('utf8') };
  } finally {
    await container.remove({ force: true });
  }
}

/** The digest a registry serves for repository:tag (Docker's v2 manifest). */
async function servedDigest(registry: string, repository: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
  });
  return response.ok ? (response.headers.get('docker-content-digest') ?? undefined) : undefined;
}

/** A TCP connection from this host (the test process), as connectFrom says one from a machine. */
function connectFromHost(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ECONNREFUSED' ? 'refused' : `failed: ${err.code}`);
    });
  });
}

/** The process exists and is not a zombie (one whose parent is gone waits for PID 1 to reap it). */
function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** A server on every address of the host that tells each client the address it came from. */
async function hostServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined); // probes hang up at once: a reset is no failure
    socket.end(`${socket.remoteAddress?.replace(/^::ffff:/, '')}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** The host's own IPv4 addresses other than loopback and the bed's (its uplink, Docker's bridges). */
function otherHostAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => !!a && a.family === 'IPv4' && !a.internal && !a.address.startsWith('198.18.') && !a.address.startsWith('198.19.'))
    .map((a) => a.address);
}

describe('machines', () => {
  test('busybox:1.36 pulls in a machine through the public registry mirror and runs there', async () => {
    await expect(m1.docker.getImage(PUBLIC_BUSYBOX).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await pull(m1.docker, PUBLIC_BUSYBOX);

    // The very image the public registry serves under Docker Hub's name (the machine has no other way out).
    const digest = await servedDigest(PUBLIC_REGISTRY, 'library/busybox', '1.36');
    expect(digest).toMatch(/^sha256:/);
    const image = await m1.docker.getImage(PUBLIC_BUSYBOX).inspect();
    expect(image.RepoDigests).toContain(`busybox@${digest}`);

    // Its containers reach the public address too, through the machine's own Docker NAT and the host's.
    const { code, output } = await runContainer(m1.docker, PUBLIC_BUSYBOX, ['wget', '-q', '-O', '-', `http://${PUBLIC_REGISTRY}/v2/`]);
    expect({ code, output: output.trim() }).toMatchObject({ code: 0, output: expect.stringContaining('{}') });
  });

  test('each machine has an engine of its own, neither the other machine\'s nor the host\'s', async () => {
    await pull(m1.docker, PUBLIC_BUSYBOX);
    const [info1, info2, hostInfo] = await Promise.all([m1.docker.info(), m2.docker.info(), hostDocker.info()]);
    expect(new Set([info1.ID, info2.ID, hostInfo.ID]).size).toBe(3);
    expect(info1.DockerRootDir).toBe(path.join(m1.dir, 'docker'));
    expect(info1.RegistryConfig.Mirrors).toEqual([`http://${PUBLIC_REGISTRY}/`]);

    const container = await m1.docker.createContainer({ Image: PUBLIC_BUSYBOX, Cmd: ['sleep', '300'] });
    try {
      await container.start();
      const byId = { all: true, filters: { id: [container.id] } };
      expect(await m1.docker.listContainers(byId)).toHaveLength(1);
      expect(await m2.docker.listContainers(byId)).toHaveLength(0);
      expect(await hostDocker.listContainers(byId)).toHaveLength(0);
      // In the machine's cgroup parent, which `down` empties.
      const { State } = await container.inspect();
      expect(readFileSync(`/proc/${State.Pid}/cgroup`, 'utf8')).toContain(`:/lattice-${m1.name}/${container.id}`);
    } finally {
      await container.remove({ force: true });
    }
  });

  test('the public registry serves Docker Hub\'s names only, read-only, and what is pushed later through the loopback registry', async () => {
    // The cluster's own images are not public: a provider gets them through its gateway.
    expect(await servedDigest(LOOPBACK_REGISTRY, 'lattice/busybox', '1')).toMatch(/^sha256:/);
    expect(await servedDigest(PUBLIC_REGISTRY, 'lattice/busybox', '1')).toBeUndefined();

    // A repository of its own, so that deleting the probe's manifest touches nothing else.
    const tag = `t${Date.now().toString(36)}`;
    const pushed = `${LOOPBACK_REGISTRY}/library/bedprobe:${tag}`;
    await run('docker', ['tag', `${LOOPBACK_REGISTRY}/lattice/busybox:1`, pushed]);
    try {
      expect(await servedDigest(PUBLIC_REGISTRY, 'library/bedprobe', tag)).toBeUndefined();
      await run('docker', ['push', '-q', pushed]);
      const digest = await servedDigest(LOOPBACK_REGISTRY, 'library/bedprobe', tag);
      expect(await servedDigest(PUBLIC_REGISTRY, 'library/bedprobe', tag)).toBe(digest);
      await pull(m2.docker, `bedprobe:${tag}`);

      const upload = await fetch(`http://${PUBLIC_REGISTRY}/v2/library/bedprobe/blobs/uploads/`, { method: 'POST' });
      expect(upload.ok).toBe(false);
      await fetch(`http://${LOOPBACK_REGISTRY}/v2/library/bedprobe/manifests/${digest}`, { method: 'DELETE' });
    } finally {
      await hostDocker.getImage(pushed).remove().catch(() => undefined);
    }
  });

  test('from a machine the host answers only at the public address, and through NAT', async () => {
    const server = await hostServer();
    try {
      // The same listener (on every host address) answers at the public address only.
      expect(await connectFrom(m1, PUBLIC_ADDRESS, server.port)).toBe('connected');
      const seen = await m1.exec(['bash', '-c', 'exec 3<>"/dev/tcp/$0/$1" && head -1 <&3', PUBLIC_ADDRESS, String(server.port)]);
      expect(seen.stdout.trim()).toBe(m1.natAddress);
      expect(await connectFrom(m1, m1.gateway, server.port)).toBe('refused');
      for (const address of otherHostAddresses()) expect([address, await connectFrom(m1, address, server.port)]).toEqual([address, 'refused']);
      // The machine's loopback is its own.
      expect(await connectFrom(m1, '127.0.0.1', server.port)).toBe('refused');
    } finally {
      await server.close();
    }

    // The cluster's loopback services: the apiserver and the loopback registry.
    for (const port of [6443, 5001]) {
      expect(await connectFrom(m1, '127.0.0.1', port)).toBe('refused');
      expect(await connectFrom(m1, m1.gateway, port)).toBe('refused');
      expect(await connectFrom(m1, PUBLIC_ADDRESS, port)).toBe('refused');
    }
    const registry = await m1.exec(['curl', '-fsS', '--max-time', '5', `http://${PUBLIC_REGISTRY}/v2/`]);
    expect(registry).toMatchObject({ code: 0, stdout: '{}' });
  });

  test('machines cannot reach one another, and the host cannot open a connection into one', async () => {
    const listener = spawnInMachine(m2, process.execPath, ['-e', "require('net').createServer((s) => s.on('error', () => {}).end('m2\\n')).listen(7700, () => console.log('listening'))"]);
    spawned.push(listener);
    await waitFor('the listener in m2', () => listener.output.join('').includes('listening'), { timeoutMs: 15_000 });
    // It does serve, inside its machine.
    expect(await connectFrom(m2, m2.address, 7700)).toBe('connected');

    expect(await connectFrom(m1, m2.address, 7700, 2000)).toBe('timeout'); // dropped: as if not there
    expect(await connectFrom(m1, m2.gateway, 7700)).toBe('refused'); // the host's end of m2's line
    expect(await connectFromHost(m2.address, 7700)).toBe('refused'); // behind NAT

    listener.child.kill('SIGTERM');
    await listener.done;
  });

  test('up replaces what a crashed run left of a machine, and down leaves nothing behind', async () => {
    const m3 = await createMachine();
    await pull(m3.docker, PUBLIC_BUSYBOX);
    const container = await m3.docker.createContainer({ Image: PUBLIC_BUSYBOX, Cmd: ['sleep', '300'] });
    await container.start();
    const { State } = await container.inspect();

    // The engine dies as in a crash: its containerd, shims and container stay.
    const enginePid = Number(readFileSync(path.join(stateDir, 'run', `machine-${m3.name}-dockerd.pid`), 'utf8'));
    process.kill(enginePid, 'SIGKILL');
    await waitFor('the engine to be gone', () => !running(enginePid));
    expect(running(State.Pid)).toBe(true);

    const again = await createMachine(m3.name);
    expect(running(State.Pid)).toBe(false);
    expect(await again.docker.listContainers({ all: true })).toHaveLength(0);
    expect(await connectFrom(again, PUBLIC_ADDRESS, 5000)).toBe('connected');

    await removeMachine(again);
    const { stdout: namespaces } = await run('ip', ['netns', 'list']);
    expect(namespaces).not.toContain(`lattice-${m3.name}`);
    const { stdout: links } = await run('ip', ['-o', 'link', 'show']);
    expect(links).not.toContain(`ltm-${m3.name}`);
    expect(existsSync(again.dir)).toBe(false);
    expect(existsSync(`/run/lattice-${m3.name}`)).toBe(false);
    expect(readdirSync('/sys/fs/cgroup/memory')).not.toContain(`lattice-${m3.name}`);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(m3.name);
  });
});
