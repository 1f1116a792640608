// Build from Git, for the Node.js sample: the whole Lattice path — the Workload applied (or a
// rebuild asked for), the build Job scheduled onto a provider, clone, docker build on the
// provider's engine, push to the registry — until the Workload says Built, against the floor:
// `docker build` of the same context and Dockerfile, run directly on the same engine in this run.
//
//   cold: dependencies changed (a new package.json), so the install layer is built again;
//   warm: only the code changed, so the install layer comes from the engine's cache.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import * as k8s from '@kubernetes/client-node';
import { BuildRequestSchema } from '@lattice/protocol';
import { dockerfileFor, GENERATED_DOCKERFILE } from '../../agent/src/runtime/build/dockerfile.js';
import { contextFiles, projectFacts } from '../../agent/src/runtime/build/project.js';
import { adminKubeConfig, kubeconfigPath, kubectl, repoRoot, uniqueName, waitFor } from '../support/cluster.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { REGISTRY, joinedAgent, runAgent, stopAgent, type AgentProcess, removeSuiteLeftovers } from '../support/providers.js';
import { createGitCa, namespaceBridgeAddress, startGitServer, type GitServer } from '../support/git-server.js';
import { nodeApp } from '../support/build-samples.js';
import { report } from './stats.js';

const RUNS = Number(process.env.BENCH_BUILD_RUNS ?? 3);
const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const docker = new Docker();
const run = promisify(execFile);
const RUN_LABEL = 'provider.lattice.dev/bench-builds';

/** The sample with a dependency manifest of its own (`deps`) and a code version (`code`). */
function sample(deps: string, code: string): Record<string, string> {
  const files = nodeApp(`hello ${code}`);
  const pkg = JSON.parse(files['package.json']!) as Record<string, unknown>;
  files['package.json'] = JSON.stringify({ ...pkg, description: deps });
  return files;
}

/** `docker build` of the sample, with the Dockerfile Lattice generates for it; ms. */
async function dockerBuild(files: Record<string, string>, tag: string): Promise<number> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-build-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
    const request = BuildRequestSchema.parse({ url: 'https://x/y.git', ref: 'main', strategy: 'node', port: 3000, repository: tag, baseImages: `${REGISTRY}/lattice` });
    await writeFile(path.join(dir, GENERATED_DOCKERFILE), dockerfileFor(request, await projectFacts(dir)).content!);
    const t0 = Date.now();
    const stream = await docker.buildImage({ context: dir, src: await contextFiles(dir) }, { t: tag, dockerfile: GENERATED_DOCKERFILE, rm: true });
    await new Promise((resolve, reject) => docker.modem.followProgress(stream, (err, out) => (err ? reject(err) : resolve(out))));
    return Date.now() - t0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const id = uniqueName('bench-builds');
  const namespace = id;
  const gatewayNamespace = `${id}-gw`;
  const ca = await createGitCa();
  process.env.GIT_SSL_CAINFO = ca.caFile;
  let git: GitServer | undefined;
  await kubectl(['apply', '--server-side', '--force-conflicts', '-k', path.join(repoRoot, 'config/crd')]);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  const [grpcPort, kubeletPort] = [await freePort(), await freePort()];
  const operator = OperatorProcess.start({ identity: 'bench', namespace: gatewayNamespace, watchNamespace: namespace, grpcPort, kubeletPort, extra: ['--build-cpu', '1', '--build-memory', '1Gi'] });
  const agent: AgentProcess = { name: `${id}-p`, stateDir: '', output: [] };
  const cold: number[] = [];
  const warm: number[] = [];
  const coldBase: number[] = [];
  const warmBase: number[] = [];
  try {
    await operator.gatewayListening();
    Object.assign(agent, await joinedAgent(agent.name, `127.0.0.1:${grpcPort}`, await createJoinToken(gatewayNamespace, 1), { cpu: '2', memory: '4Gi', maxPods: 20, labels: { [RUN_LABEL]: id } }));
    runAgent(agent);
    await operator.ready();
    await waitFor('the provider schedulable', async () => {
      const node = await core.readNode({ name: agent.name }).catch(() => undefined);
      return !!node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && !node.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
    }, { timeoutMs: 60_000 });
    // Builds fetch from the namespace's network: the server listens where it may reach this machine (see git-server.ts).
    git = await startGitServer({ username: 'u', password: 'p' }, { host: await namespaceBridgeAddress(namespace, agent.name), ca });

    /** Until the Workload says the build of `commit` succeeded; ms since `t0`. */
    const built = async (name: string, commit: string, t0: number) => {
      await waitFor(`${name} built at ${commit.slice(0, 8)}`, async () => {
        const wl = (await custom.getNamespacedCustomObject({ group: 'lattice.dev', version: 'v1alpha1', plural: 'workloads', namespace, name })) as { status?: { build?: { commit?: string }; conditions?: { type: string; status: string; reason: string; message: string }[] } };
        const cond = wl.status?.conditions?.find((c) => c.type === 'Built');
        if (cond?.reason === 'BuildFailed') throw new Error(cond.message);
        return cond?.status === 'True' && wl.status?.build?.commit === commit;
      }, { timeoutMs: 300_000, intervalMs: 100 });
      return Date.now() - t0;
    };

    for (let i = 0; i < RUNS; i++) {
      const name = `app-${i}`;
      // Cold: a dependency manifest no build has seen.
      const deps = `${id}-${i}`;
      let commit = await git.commit(name, sample(deps, 'v1'));
      let t0 = Date.now();
      await kubectl(['apply', '--server-side', '-f', '-'], {
        input: JSON.stringify({
          apiVersion: 'lattice.dev/v1alpha1',
          kind: 'Workload',
          metadata: { name, namespace },
          spec: {
            source: { url: `${git.url}/${name}.git` },
            build: { strategy: 'node' },
            ports: [{ name: 'http', port: 3000 }],
            replicas: 0,
            placement: { providerSelector: { [RUN_LABEL]: id } },
          },
        }),
      });
      cold.push(await built(name, commit, t0));
      coldBase.push(await dockerBuild(sample(`${deps}-direct`, 'v1'), `${REGISTRY}/bench/direct:${i}`));

      // Warm: only the code changed; a rebuild is asked for as a user does.
      commit = await git.commit(name, sample(deps, 'v2'));
      t0 = Date.now();
      await run(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'operator/src/cli.ts'), '--kubeconfig', kubeconfigPath, 'build', `${namespace}/${name}`], { cwd: repoRoot });
      warm.push(await built(name, commit, t0));
      warmBase.push(await dockerBuild(sample(`${deps}-direct`, 'v2'), `${REGISTRY}/bench/direct:${i}`));
    }
    report('Build from Git, Node.js sample: request to Built (clone, build, push) vs docker build of the same context', 'docker build', [
      { what: 'cold (new dependencies)', samples: cold, baseline: coldBase },
      { what: 'warm (code change only)', samples: warm, baseline: warmBase },
    ]);
  } finally {
    await operator.stop();
    await stopAgent(agent).catch(() => undefined);
    await removeSuiteLeftovers({ namespaces: [namespace], gatewayNamespace, agents: [agent] });
    const images = await docker.listImages({ filters: { reference: [`${REGISTRY}/bench/direct`, `${REGISTRY}/builds/${namespace}/*`] } });
    await Promise.all(images.map((img) => docker.getImage(img.Id).remove({ force: true }).catch(() => undefined)));
    await git?.close();
    await rm(path.dirname(ca.caFile), { recursive: true, force: true });
  }
}

await main();
