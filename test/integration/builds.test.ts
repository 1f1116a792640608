// Builds from Git, end to end, as a user lives them: Git repositories served over HTTPS (and ssh)
// by a Git host on the internet (git http-backend on the cluster's public address), the real
// operator (the Workload controller makes each build a Job), one real provider agent on a machine
// of its own behind NAT (hack/machines) that runs the build with its own Docker engine and pushes
// through its gateway connection to the cluster registry; then the replicas run the built image by
// digest and answer HTTP.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, kubeconfigPath, kubectl, repoRoot, stateDir, uniqueName, waitFor } from '../support/cluster.js';
import { condition, workloadReader, type StoredWorkload } from '../support/workloads.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { REGISTRY, engineOf, joinedAgent, onProvider, runAgent, stopAgent, type AgentProcess, removeSuiteLeftovers } from '../support/providers.js';
import { PUBLIC_ADDRESS, createMachine, ensureInternet, removeAllMachines, spawnInMachine, type Machine } from '../support/machines.js';
import { createGitCa, namespaceBridgeAddress, startGitServer, type GitCa, type GitServer } from '../support/git-server.js';
import { startSshGitServer, type SshGitServer } from '../support/ssh-git-server.js';
import { dockerfileApp, nodeApp, pythonApp, staticSite } from '../support/build-samples.js';
import { PIDS_LIMIT } from '../../agent/src/runtime/security.js';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const batch = kc.makeApiClient(k8s.BatchV1Api);

const run = uniqueName('builds');
const namespace = run;
const gatewayNamespace = `${run}-gw`;
// What a Dockerfile names, as a user writes it: the machine's engine pulls it from its Docker Hub mirror.
const BUSYBOX = 'busybox:1.36';
const RUN_LABEL = 'provider.lattice.dev/builds-run';
const CREDENTIALS = { username: 'deploy', password: 'tok3n-never-logged' };
const { getWorkload, waitForStatus } = workloadReader(kc, namespace, { timeoutMs: 150_000, intervalMs: 500 });

const agent: AgentProcess = { name: `${run}-p`, stateDir: '', output: [] };
let operator: OperatorProcess;
let machine: Machine;
let git: GitServer;
let ca: GitCa;

async function applyWorkload(name: string, source: Record<string, unknown>, build: Record<string, unknown>, port: number, extra: Record<string, unknown> = {}): Promise<void> {
  const manifest = {
    apiVersion: 'lattice.dev/v1alpha1',
    kind: 'Workload',
    metadata: { name, namespace },
    spec: {
      source: { ref: 'main', ...source },
      build,
      ports: [{ name: 'http', port }],
      // Probed often (quick to Ready), with room for a slow start on a loaded machine (npm start, then node).
      healthCheck: { http: { port: 'http' }, periodSeconds: 1, failureThreshold: 30 },
      resources: { cpu: '50m', memory: '128Mi' },
      placement: { providerSelector: { [RUN_LABEL]: run } },
      ...extra,
    },
  };
  await kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(manifest) });
}

/** What the Workload's ready replica answers on `port`, at its pod IP: a Docker network address of the provider's machine, asked from there. */
async function answer(name: string, port: number): Promise<string> {
  const pods = (await core.listNamespacedPod({ namespace, labelSelector: `lattice.dev/workload=${name}` })).items;
  const pod = pods.find((p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  if (!pod?.status?.podIP) throw new Error(`no ready replica of ${name}`);
  const result = await machine.exec(['curl', '-sS', '--max-time', '3', `http://${pod.status.podIP}:${port}/`]);
  if (result.code !== 0) throw new Error(`curl of ${name}'s replica on ${machine.name} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** The provider's copies of the Workload's build images, newest first. */
const localImages = async (name: string) =>
  (await engineOf(agent).listImages({ filters: { reference: [onProvider(agent, `${REGISTRY}/builds/${namespace}/${name}`)] } })).sort((a, b) => b.Created - a.Created).map((i) => i.Id);

const buildJobs = async (name: string) =>
  (await batch.listNamespacedJob({ namespace, labelSelector: `lattice.dev/build-of=${name}` })).items.sort(
    (a, b) => new Date(a.metadata!.creationTimestamp!).getTime() - new Date(b.metadata!.creationTimestamp!).getTime(),
  );

/** The phases a Workload goes through until `done`, read every 200 ms. */
async function phasesUntil(name: string, what: string, done: (wl: StoredWorkload) => boolean): Promise<string[]> {
  const phases: string[] = [];
  await waitFor(
    `${name} ${what}`,
    async () => {
      const wl = await getWorkload(name);
      const phase = wl.status?.phase;
      if (phase && phases.at(-1) !== phase) phases.push(phase);
      return done(wl);
    },
    { timeoutMs: 240_000, intervalMs: 200 },
  );
  return phases;
}

const running = (wl: StoredWorkload) => wl.status?.phase === 'Running' && condition(wl, 'Ready')?.status === 'True';
const buildOf = (wl: StoredWorkload) => (wl.status as { build?: { job?: string; commit?: string; image?: string; durationSeconds?: number } } | undefined)?.build;

async function saveLogs(): Promise<void> {
  const file = path.join(stateDir, 'logs', 'builds.log');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `--- operator\n${operator?.output.join('\n')}\n--- agent\n${agent.output.join('')}`);
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  // The agent (a child process) trusts the Git server's CA, as a provider trusts a company CA.
  ca = await createGitCa();
  process.env.GIT_SSL_CAINFO = ca.caFile;
  // The provider's machine, and the cluster's public address the gateway and the Git host listen on.
  await ensureInternet();
  machine = await createMachine();
  git = await startGitServer(CREDENTIALS, { host: PUBLIC_ADDRESS, ca });

  const [grpcPort, kubeletPort] = [await freePort(), await freePort()];
  operator = OperatorProcess.start({
    identity: 'operator',
    namespace: gatewayNamespace,
    watchNamespace: namespace,
    grpcHost: PUBLIC_ADDRESS,
    grpcPort,
    kubeletPort,
    extra: ['--build-cpu', '400m', '--build-memory', '512Mi', '--build-timeout-seconds', '300'],
  });
  await operator.gatewayListening();
  const token = await createJoinToken(gatewayNamespace, 1);
  Object.assign(agent, await joinedAgent(agent.name, `${PUBLIC_ADDRESS}:${grpcPort}`, token, { cpu: '2', memory: '3Gi', maxPods: 30, labels: { [RUN_LABEL]: run } }, { machine }));
  runAgent(agent);
  await operator.ready();
  await waitFor(
    `node ${agent.name} schedulable`,
    async () => {
      const node = await core.readNode({ name: agent.name }).catch(() => undefined);
      const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return !!ready && !node?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
    },
    { timeoutMs: 60_000 },
  );
}, 180_000);

afterAll(async () => {
  await saveLogs().catch(() => undefined);
  await operator?.stop('SIGTERM');
  await stopAgent(agent).catch(() => undefined);
  await removeSuiteLeftovers({ namespaces: [namespace], gatewayNamespace, agents: [agent] });
  await removeAllMachines();
  await git?.close();
  if (ca) await rm(path.dirname(ca.caFile), { recursive: true, force: true });
  delete process.env.GIT_SSL_CAINFO;
}, 120_000);

describe('a Workload built from Git', () => {
  let nodeCommit: string;

  test('Node.js, Python, a static site and a Dockerfile app each go from apply through Building, Deploying to Running, and answer', async () => {
    // Each run's apps are its own (the run in every body): no build step comes from an earlier run's layer cache.
    nodeCommit = await git.commit('node-app', nodeApp(`hello from node v1 ${run}`));
    const pythonCommit = await git.commit('python-app', pythonApp(`hello from python ${run}`));
    await git.commit('static-site', staticSite(`hello from a static site ${run}`));
    await git.commit('docker-app', dockerfileApp(`hello from a Dockerfile ${run}`, 8081, BUSYBOX));
    const apps = [
      { name: 'node', repo: 'node-app', strategy: 'node', port: 3000, body: `hello from node v1 ${run}` },
      { name: 'python', repo: 'python-app', strategy: 'python', port: 8000, body: `hello from python ${run}` },
      { name: 'static', repo: 'static-site', strategy: 'static', port: 8080, body: `hello from a static site ${run}` },
      { name: 'docker', repo: 'docker-app', strategy: 'dockerfile', port: 8081, body: `hello from a Dockerfile ${run}` },
    ];
    for (const app of apps) await applyWorkload(app.name, { url: `${git.url}/${app.repo}.git` }, { strategy: app.strategy }, app.port);

    // All four build at once: each one's phases are followed from now on.
    const phases = await Promise.all(apps.map((app) => phasesUntil(app.name, 'Running', running)));
    for (const [i, app] of apps.entries()) {
      expect(phases[i]).toEqual(['Building', 'Deploying', 'Running']);
      expect(await answer(app.name, app.port)).toContain(app.body);
    }

    const node = await getWorkload('node');
    expect(condition(node, 'Built')).toMatchObject({ status: 'True', reason: 'BuildSucceeded' });
    expect(buildOf(node)).toMatchObject({ commit: nodeCommit, image: expect.stringMatching(/^127\.0\.0\.1:5001\/builds\/.+\/node@sha256:[0-9a-f]{64}$/) });
    expect(buildOf(node)!.durationSeconds).toBeGreaterThanOrEqual(0);
    // The replicas run the image by digest.
    const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'lattice.dev/workload=node' })).items;
    expect(pods[0]!.spec!.containers[0]!.image).toBe(buildOf(node)!.image);
    expect(buildOf(await getWorkload('python'))!.commit).toBe(pythonCommit);
    // The printer column shows the phase.
    expect(await kubectl(['get', 'workload', 'node', '-n', namespace])).toMatch(/node\s+True\s+1\s+Running/);
  }, 600_000);

  test('the build log has the clone, the install, the build and the image built, and is kept after the build', async () => {
    const job = buildOf(await getWorkload('node'))!.job!;
    const log = await kubectl(['logs', '-n', namespace, `job/${job}`]);
    expect(log).toContain(`commit ${nodeCommit}`);
    expect(log).toContain('RUN npm ci');
    expect(log).toContain('build: wrote dist/message.txt');
    // The log is the provider's: it names the image as the provider's engine pushed it, through its agent's registry relay.
    expect(log).toMatch(/image built 127\.0\.0\.1:\d+\/builds\/.+@sha256:/);
  });

  test('a built app stops on SIGTERM, so a rollout does not wait out the grace period', async () => {
    // Each built image as the provider's Docker has it; a process left as PID 1 would ignore
    // SIGTERM and be killed when the grace ran out (exit code 137).
    for (const name of ['node', 'python', 'static']) {
      const container = await engineOf(agent).createContainer({ Image: onProvider(agent, buildOf(await getWorkload(name))!.image!) });
      try {
        await container.start();
        await container.stop({ t: 20 });
        const { State } = await container.inspect();
        expect({ name, exitCode: State.ExitCode }).toEqual({ name, exitCode: 143 });
      } finally {
        await container.remove({ force: true });
      }
    }
  });

  test('a rebuild with a broken build script fails with its error and the log tail, and the previous version keeps serving', async () => {
    await git.commit('node-app', nodeApp(`hello from node v2 ${run}`, 'node -e "console.error(\'compile error: missing semicolon\'); process.exit(3)"'));
    await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'operator/src/cli.ts'), '--kubeconfig', kubeconfigPath, 'build', `${namespace}/node`], { cwd: repoRoot });

    // While it builds, the log streams: the pod's log already has the clone when the build is not done.
    let streamed = '';
    await waitFor('the new build to fail', async () => {
      const wl = await getWorkload('node');
      const built = condition(wl, 'Built');
      if (built?.reason === 'Building' && !streamed) {
        const log = await kubectl(['logs', '-n', namespace, `job/${buildOf(wl)!.job}`]).catch(() => '');
        if (log.includes('cloning')) streamed = log;
      }
      return built?.reason === 'BuildFailed';
    }, { timeoutMs: 180_000, intervalMs: 300 });
    expect(streamed).toContain('cloning');
    expect(streamed).not.toContain('image built');

    const wl = await getWorkload('node');
    expect(condition(wl, 'Built')!.message).toContain('compile error: missing semicolon');
    expect(condition(wl, 'Ready')?.status).toBe('True');
    expect(wl.status?.phase).toBe('Running');
    expect(await answer('node', 3000)).toBe(`hello from node v1 ${run}`);
    // Not retried by itself: one Job per request.
    expect((await buildJobs('node')).length).toBe(2);
  }, 300_000);

  test('a private repository fails clearly without its Secret, and builds with it; the token is never logged', async () => {
    await git.commit('private/app', staticSite(`hello from a private repo ${run}`));
    const url = `${git.url}/private/app.git`;
    await applyWorkload('private', { url }, { strategy: 'static' }, 8080);
    await waitForStatus('private', 'build failed for want of credentials', (wl) => condition(wl, 'Built')?.reason === 'BuildFailed');
    const failed = await getWorkload('private');
    expect(failed.status?.phase).toBe('Failed');
    expect(condition(failed, 'Built')!.message).toMatch(/credentialsSecretRef/);

    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'git-token' }, type: 'kubernetes.io/basic-auth', stringData: CREDENTIALS },
    });
    await applyWorkload('private', { url, credentialsSecretRef: { name: 'git-token' } }, { strategy: 'static' }, 8080);
    await phasesUntil('private', 'Running', running);
    expect(await answer('private', 8080)).toContain('hello from a private repo');
    const log = await kubectl(['logs', '-n', namespace, `job/${buildOf(await getWorkload('private'))!.job}`]);
    expect(log).toContain('image built');
    expect(log).not.toContain(CREDENTIALS.password);
    expect(agent.output.join('')).not.toContain(CREDENTIALS.password);
  }, 300_000);

  test('a credentials Secret that is missing, or lacks its key, fails the build at once naming it; the build starts by itself once it is right', async () => {
    await git.commit('private/later', staticSite(`hello once the Secret is there ${run}`));
    await applyWorkload('later', { url: `${git.url}/private/later.git`, credentialsSecretRef: { name: 'later-token' } }, { strategy: 'static' }, 8080);
    // At once, not at the build's time limit: the Secret is checked before the build is made.
    const built = (wl: StoredWorkload) => condition(wl, 'Built');
    await waitFor('the missing Secret reported', async () => built(await getWorkload('later'))?.reason === 'CredentialsMissing', { timeoutMs: 20_000, intervalMs: 200 });
    let wl = await getWorkload('later');
    expect(wl.status?.phase).toBe('Failed');
    expect(built(wl)).toMatchObject({ status: 'False', message: expect.stringContaining('Secret later-token (spec.source.credentialsSecretRef) does not exist') });
    expect(await buildJobs('later')).toEqual([]);

    // There, without the token the https URL needs: the key is named.
    await core.createNamespacedSecret({ namespace, body: { metadata: { name: 'later-token' }, stringData: { username: CREDENTIALS.username } } });
    await waitFor('the missing key reported', async () => !!built(await getWorkload('later'))?.message.includes('has no key "password"'), { timeoutMs: 20_000, intervalMs: 200 });
    expect(await buildJobs('later')).toEqual([]);

    // Completed: nothing else to do, the build starts and the Workload runs.
    await core.replaceNamespacedSecret({ namespace, name: 'later-token', body: { metadata: { name: 'later-token' }, stringData: CREDENTIALS } });
    await phasesUntil('later', 'Running', running);
    expect(await answer('later', 8080)).toContain(`hello once the Secret is there ${run}`);
    wl = await getWorkload('later');
    expect(built(wl)).toMatchObject({ status: 'True', reason: 'BuildSucceeded' });
    expect((await buildJobs('later')).length).toBe(1);
  }, 240_000);

  test("a build cannot fetch from the provider's own services: a server on the provider's machine listening on every address is refused", async () => {
    // As a provider's own service listens: on every address of the machine, so also on the
    // namespace bridge's address a build container would dial.
    const bridge = await namespaceBridgeAddress(namespace, agent.name, engineOf(agent));
    const port = 18080;
    const own = spawnInMachine(machine, process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('the provider own')).listen(${port}, '0.0.0.0')`]);
    try {
      // It answers on the machine itself: what refuses the build is the isolation, not a missing server
      // (plain HTTP: the build's https fetch is refused before TLS begins).
      await waitFor('the provider\'s own server', async () => (await machine.exec(['curl', '-fsS', '--max-time', '2', `http://${bridge}:${port}/`])).stdout === 'the provider own');
      await applyWorkload('hostgit', { url: `https://${bridge}:${port}/host-app.git` }, { strategy: 'static' }, 8080);
      await waitForStatus('hostgit', 'build failed', (wl) => condition(wl, 'Built')?.reason === 'BuildFailed');
      const message = condition(await getWorkload('hostgit'), 'Built')!.message;
      expect(message).toMatch(/Failed to connect|Connection refused/);
      expect(message).toContain("reachable from the provider's pod network");
    } finally {
      own.child.kill('SIGKILL');
    }
  }, 180_000);

  test("a build's RUN steps count against the build pod's process limit: a step forking past it fails the build", async () => {
    // A fork bomb, bounded so that without the limit it ends (and the build succeeds).
    const forks = PIDS_LIMIT + 100;
    await git.commit('forks', { Dockerfile: `FROM ${BUSYBOX}\nRUN i=0; while [ $i -lt ${forks} ]; do sleep 300 & i=$((i+1)); done; echo started $i ${run}\n` });
    await applyWorkload('forks', { url: `${git.url}/forks.git` }, { strategy: 'dockerfile' }, 8080);
    await waitForStatus('forks', 'build ended', (wl) => ['BuildFailed', 'BuildSucceeded'].includes(condition(wl, 'Built')?.reason ?? ''));
    expect(condition(await getWorkload('forks'), 'Built')).toMatchObject({ reason: 'BuildFailed', message: expect.stringMatching(/can't fork|Resource temporarily unavailable/) });
    await kubectl(['delete', 'workload', 'forks', '-n', namespace, '--wait=false']);
  }, 180_000);

  test("a Workload's older build images are removed from the provider, its newest three kept", async () => {
    // No replicas, so no image is in use (one a container still uses is never removed).
    const build = async (version: number) => {
      const commit = await git.commit('images-site', staticSite(`images v${version} ${run}`));
      if (version === 1) await applyWorkload('images', { url: `${git.url}/images-site.git` }, { strategy: 'static' }, 8080, { replicas: 0 });
      // Each later one asked for as a user does.
      else await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'operator/src/cli.ts'), '--kubeconfig', kubeconfigPath, 'build', `${namespace}/images`], { cwd: repoRoot });
      await waitForStatus('images', `built v${version}`, (wl) => condition(wl, 'Built')?.status === 'True' && buildOf(wl)?.commit === commit);
    };
    await build(1);
    const first = await localImages('images');
    expect(first.length).toBe(1);
    for (const version of [2, 3, 4]) await build(version);
    const kept = await localImages('images');
    expect(kept.length).toBe(3);
    expect(kept).not.toContain(first[0]);
    // The newest is the one the Workload names.
    const newest = (await engineOf(agent).getImage(kept[0]!).inspect()).RepoDigests;
    expect(newest).toContain(onProvider(agent, buildOf(await getWorkload('images'))!.image!));
  }, 180_000);

  test('an agent restarted in the middle of a build builds again from the start, and the Workload runs', async () => {
    // A build step that takes a while, so the agent can be stopped during it.
    await git.commit('slow-app', nodeApp(`hello from a slow build ${run}`, 'node -e "setTimeout(() => require(\'./build.js\'), 5000)"'));
    await applyWorkload('slow', { url: `${git.url}/slow-app.git` }, { strategy: 'node' }, 3000);
    const job = await waitFor('the slow build at its build step', async () => {
      const name = buildOf(await getWorkload('slow'))?.job;
      const log = name ? await kubectl(['logs', '-n', namespace, `job/${name}`]).catch(() => '') : '';
      return log.includes(': RUN npm run build') && !log.includes('build: wrote') && name;
    }, { timeoutMs: 120_000, intervalMs: 300 });
    await stopAgent(agent);
    runAgent(agent);

    await phasesUntil('slow', 'Running', running);
    expect(await answer('slow', 3000)).toBe(`hello from a slow build ${run}`);
    const wl = await getWorkload('slow');
    expect(buildOf(wl)!.job).toBe(job);
    const log = await kubectl(['logs', '-n', namespace, `job/${job}`]);
    expect(log).toContain('the agent restarted during the build: building again from the start');
    expect(log).toContain('image built');
  }, 300_000);
});

describe('a Workload built from Git over ssh', () => {
  // A real sshd serving the same repositories, on the same address (see ssh-git-server.ts).
  let ssh: SshGitServer;
  let url: string;
  const sshSecret = (name: string, data: Record<string, string>) =>
    core.createNamespacedSecret({ namespace, body: { metadata: { name }, type: 'kubernetes.io/ssh-auth', stringData: { 'ssh-privatekey': ssh.clientKey, ...data } } });
  const buildLog = async (name: string) => kubectl(['logs', '-n', namespace, `job/${buildOf(await getWorkload(name))!.job}`]);

  beforeAll(async () => {
    ssh = await startSshGitServer(git.repos, new URL(git.url).hostname);
    await git.commit('ssh-app', dockerfileApp(`hello over ssh ${run}`, 8082, BUSYBOX));
    url = `${ssh.url}/ssh-app.git`;
  });
  afterAll(async () => ssh?.close());

  test("with the server's key pinned in known_hosts, it builds and answers; the key is never logged", async () => {
    await sshSecret('git-ssh', { known_hosts: ssh.knownHosts });
    await applyWorkload('ssh', { url, credentialsSecretRef: { name: 'git-ssh' } }, { strategy: 'dockerfile' }, 8082);
    await phasesUntil('ssh', 'Running', running);
    expect(await answer('ssh', 8082)).toContain(`hello over ssh ${run}`);
    const log = await buildLog('ssh');
    expect(log).toContain('image built');
    expect(log).not.toContain('accepted on first use');
    expect(log).not.toContain('PRIVATE KEY');
    expect(agent.output.join('')).not.toContain('PRIVATE KEY');
  }, 180_000);

  test('with another key pinned (a man in the middle answering), the build fails saying the host key did not match', async () => {
    await sshSecret('git-ssh-other', { known_hosts: ssh.foreignKnownHosts });
    await applyWorkload('sshmitm', { url, credentialsSecretRef: { name: 'git-ssh-other' } }, { strategy: 'dockerfile' }, 8082);
    await waitForStatus('sshmitm', 'build failed', (wl) => condition(wl, 'Built')?.reason === 'BuildFailed');
    const wl = await getWorkload('sshmitm');
    expect(condition(wl, 'Built')!.status).toBe('False');
    const message = condition(wl, 'Built')!.message;
    expect(message).toContain(`Host key verification failed: the git server's host key (${ssh.fingerprint}) did not match the known_hosts of the credentials Secret`);
    // The log tail shows ssh's own warning.
    expect(message).toContain('REMOTE HOST IDENTIFICATION HAS CHANGED');
    expect(await buildLog('sshmitm')).not.toContain('image built');
  }, 180_000);

  test('without known_hosts, it builds, and the build log shows the host key accepted on first use and how to pin it', async () => {
    await sshSecret('git-ssh-unpinned', {});
    await applyWorkload('sshtofu', { url, credentialsSecretRef: { name: 'git-ssh-unpinned' } }, { strategy: 'dockerfile' }, 8082);
    await phasesUntil('sshtofu', 'Running', running);
    expect(await answer('sshtofu', 8082)).toContain(`hello over ssh ${run}`);
    const { hostname, port } = new URL(ssh.url);
    const log = await buildLog('sshtofu');
    expect(log).toContain(`ssh: the host key of [${hostname}]:${port} was accepted on first use, unchecked: ED25519 ${ssh.fingerprint}`);
    expect(log).toContain('add the host\'s known_hosts line to the credentials Secret as known_hosts');
  }, 180_000);
});
