// The release images (`make images`: hack/release-images) as their users run them. Each is in the
// local registry under its package version and its short git revision, with OCI labels, and runs
// as user 65532 with a read-only root file system, writing nothing but what it is given:
//   - the operator prints its usage;
//   - the console, configured as in a pod (KUBERNETES_SERVICE_HOST/PORT and the cluster CA where a
//     pod has it), serves the SPA and signs a user in against the real apiserver;
//   - the agent, as a Linux provider runs it (`docker run` beside the host's Docker engine), joins a
//     real gateway and runs a pod bound to its node.
import { execFile } from 'node:child_process';
import { chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { GatewayOptionsSchema, startGateway, type RunningGateway } from '../../operator/src/gateway/index.js';
import { adminKubeConfig, kubectl, repoRoot, uniqueName, waitFor } from '../support/cluster.js';
import { freePort } from '../support/operator.js';
import { BUSYBOX, REGISTRY, cleanupNodes } from '../support/providers.js';

const run = promisify(execFile);
const docker = async (args: string[]) => (await run('docker', args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
const git = async (args: string[]) => (await run('git', args, { cwd: repoRoot })).stdout.trim();

const PROGRAMS = ['operator', 'console', 'agent'] as const;
type Program = (typeof PROGRAMS)[number];
const USER = '65532:65532';
/** How every image must run: non-root, nothing writable in its root, no capability. */
const CONFINED = ['--read-only', '--user', USER, '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges'];

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const suite = uniqueName('it-images');

interface ImageConfig {
  Id: string;
  Config: { User: string; Labels: Record<string, string> };
}

const readJson = async <T>(file: string) => JSON.parse(await readFile(path.join(repoRoot, file), 'utf8')) as T;
const versionOf = async (program: Program) => (await readJson<{ version: string }>(`${program}/package.json`)).version;
const refOf = async (program: Program) => `${REGISTRY}/lattice/${program}:${await versionOf(program)}`;

async function inspect(ref: string): Promise<ImageConfig> {
  const out = await docker(['image', 'inspect', ref]).catch(() => {
    throw new Error(`image ${ref} is missing: build the release images with \`make images\``);
  });
  return (JSON.parse(out) as ImageConfig[])[0]!;
}

describe.each(PROGRAMS)('lattice/%s', (program) => {
  test('is tagged with its version and its revision, carries the OCI labels, and runs as user 65532', async () => {
    const image = await inspect(await refOf(program));
    const labels = image.Config.Labels;
    const { repository } = await readJson<{ repository: { url: string } }>('package.json');
    expect(labels).toMatchObject({
      'org.opencontainers.image.title': `lattice-${program}`,
      'org.opencontainers.image.version': await versionOf(program),
      'org.opencontainers.image.source': repository.url,
    });
    const [, commit, dirty = ''] = /^([0-9a-f]{40})(-dirty)?$/.exec(labels['org.opencontainers.image.revision'] ?? '') ?? [];
    expect(commit).toBeDefined();
    const revisionTag = `${REGISTRY}/lattice/${program}:${await git(['rev-parse', '--short', commit!])}${dirty}`;
    expect((await inspect(revisionTag)).Id).toBe(image.Id);
    expect(image.Config.User).toBe(USER);
  });
});

test('the operator prints its usage, confined and without a network, and so does the lattice CLI beside it', async () => {
  expect(await docker(['run', '--rm', ...CONFINED, '--network', 'none', await refOf('operator'), '--help'])).toMatch(/^Usage: lattice-operator/);
  expect(await docker(['run', '--rm', ...CONFINED, '--network', 'none', '--entrypoint', 'lattice', await refOf('operator'), '--help'])).toMatch(/^Usage: lattice/);
});

describe('the console, configured as in a pod', () => {
  const name = `${suite}-console`;
  let url: string;
  let workdir: string;

  beforeAll(async () => {
    workdir = await mkdtemp(path.join(os.tmpdir(), 'lattice-console-image-'));
    const cluster = kc.getCurrentCluster()!;
    const ca = path.join(workdir, 'ca.crt');
    await writeFile(ca, cluster.caData ? Buffer.from(cluster.caData, 'base64') : await readFile(cluster.caFile!), { mode: 0o644 });
    const apiserver = new URL(cluster.server);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    // The host's network: the apiserver listens on this machine's loopback. Plain-http cookies,
    // which the console allows on a loopback HOST only.
    await docker([
      ...['run', '-d', '--rm', '--name', name, ...CONFINED, '--network', 'host'],
      ...['-e', `KUBERNETES_SERVICE_HOST=${apiserver.hostname}`, '-e', `KUBERNETES_SERVICE_PORT=${apiserver.port || '443'}`],
      ...['-e', 'HOST=127.0.0.1', '-e', `PORT=${port}`, '-e', 'LATTICE_SECURE_COOKIES=false'],
      ...['-v', `${ca}:/var/run/secrets/kubernetes.io/serviceaccount/ca.crt:ro`, await refOf('console')],
    ]);
  }, 60_000);

  afterAll(async () => {
    await docker(['rm', '-f', name]).catch(() => undefined);
    if (workdir) await rm(workdir, { recursive: true, force: true });
  });

  test('serves the SPA', async () => {
    const res = await waitFor('the console answering', () => fetch(`${url}/sign-in`).catch(() => undefined), { timeoutMs: 30_000 });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<div id="root">');
  });

  test('signs a user in with their token against the in-cluster apiserver', async () => {
    const token = (await kubectl(['create', 'token', 'default', '-n', 'default', '--duration', '10m'])).trim();
    const res = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-requested-with': 'lattice-console' },
      body: JSON.stringify({ token }),
    });
    expect([res.status, await res.json()]).toEqual([201, { username: 'system:serviceaccount:default:default' }]);
  });
});

describe('the agent, run with docker beside the host engine', () => {
  const node = `${suite}-provider`;
  const container = `${suite}-agent`;
  const namespace = `${suite}-pods`;
  const gatewayNamespace = `${suite}-gw`;
  let gateway: RunningGateway;
  let stateDir: string;
  let flags: string[];

  beforeAll(async () => {
    for (const name of [namespace, gatewayNamespace]) await core.createNamespace({ body: { metadata: { name } } });
    const options = GatewayOptionsSchema.parse({ grpcAddress: '127.0.0.1:0', namespace: gatewayNamespace, kubeletPort: 0, registry: REGISTRY });
    gateway = await startGateway(kc, options, pino({ level: 'warn' }), new Registry());
    // The state directory is the host's, at the same path: the host's engine resolves the files
    // the agent bind-mounts into pods by their path (README: a provider's `docker run`).
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'lattice-agent-image-'));
    await chown(stateDir, 65532, 65532);
    const dockerGroup = (await run('stat', ['-c', '%g', '/var/run/docker.sock'])).stdout.trim();
    flags = [...CONFINED, '--group-add', dockerGroup, '--network', 'host', '-v', '/var/run/docker.sock:/var/run/docker.sock', '-v', `${stateDir}:${stateDir}`];
  }, 60_000);

  afterAll(async () => {
    await docker(['rm', '-f', container]).catch(() => undefined);
    await gateway?.stop();
    for (const name of [namespace, gatewayNamespace]) await core.deleteNamespace({ name }).catch(() => undefined);
    await core.deleteNode({ name: node }).catch(() => undefined);
    await cleanupNodes([node], stateDir ? [stateDir] : []);
  }, 60_000);

  test('joins, and its node runs a pod', async () => {
    const { token } = await gateway.gateway.createJoinToken(600, 1);
    const image = await refOf('agent');
    const address = `127.0.0.1:${gateway.gateway.port}`;
    const offer = ['--cpu', '1', '--memory', '1Gi', '--registry-relay-port', String(await freePort())];
    await docker(['run', '--rm', ...flags, image, 'join', '--state-dir', stateDir, '--gateway', address, '--token', token, '--name', node, ...offer]);
    await docker(['run', '-d', '--name', container, ...flags, image, 'run', '--state-dir', stateDir]);
    await waitFor(`node ${node} Ready`, async () => (await core.readNode({ name: node })).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), {
      timeoutMs: 60_000,
    });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'hello' },
        spec: {
          nodeSelector: { 'kubernetes.io/hostname': node },
          tolerations: [{ key: 'lattice.dev/provider', operator: 'Exists', effect: 'NoSchedule' }],
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'app',
              image: BUSYBOX,
              command: ['sh', '-c', "trap 'exit 0' TERM; echo hello from the agent image; sleep 3600 & wait"],
              resources: { requests: { cpu: '50m', memory: '16Mi' }, limits: { cpu: '100m', memory: '32Mi' } },
            },
          ],
        },
      },
    });
    await waitFor(
      'the pod Running',
      async () => {
        const pod = await core.readNamespacedPod({ name: 'hello', namespace });
        if (pod.status?.phase === 'Running') return true;
        // Thrown, so that a timeout says where it got stuck.
        const events = (await core.listNamespacedEvent({ namespace })).items.map((e) => `${e.reason}: ${e.message}`);
        throw new Error(`phase ${pod.status?.phase}, containers ${JSON.stringify(pod.status?.containerStatuses?.map((c) => c.state))}, events ${JSON.stringify(events)}`);
      },
      { timeoutMs: 60_000 },
    );
    expect(await kubectl(['logs', '-n', namespace, 'hello'])).toContain('hello from the agent image');
  }, 150_000);
});
