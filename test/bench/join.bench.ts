// Joining on a fresh machine, as a provider lives it: a bed machine (hack/machines: its own empty
// Docker engine, behind NAT) runs `lattice-agent join` then `run` with only the gateway's public
// address and a token. Measured: join -> Node Ready, and the first pod's create -> Ready with its
// image pulled through the gateway's registry relay. The baseline, on the same machine before it
// joins: `docker pull` + `docker run` of the same image from the public registry mirror.
// Goals (the providers-are-other-machines issue): Node Ready < 10 s, first pod Ready < 60 s.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type Docker from 'dockerode';
import { stringify as toYaml } from 'yaml';
import { adminKubeConfig, kubectl, uniqueName, waitFor } from '../support/cluster.js';
import { PUBLIC_ADDRESS, createMachine, ensureInternet, removeAllMachines, spawnInMachine, type Machine, type MachineProcess } from '../support/machines.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { REGISTRY } from '../support/providers.js';
import { percentile, report } from './stats.js';

const RUNS = Number(process.env.BENCH_JOIN_RUNS ?? 3);
/** Each pair: the image through the relay, and the same image by its Docker Hub name (the mirror). */
const IMAGES = [
  { what: 'busybox', relayed: `${REGISTRY}/lattice/busybox:1`, hub: 'busybox:1.36', command: ['sleep', '3600'] },
  { what: 'postgres', relayed: `${REGISTRY}/lattice/postgres:15`, hub: 'postgres:15', command: ['sleep', '3600'] },
];
const AGENT = ['--import', 'tsx', 'agent/src/cli.ts'];
const LABEL = 'provider.lattice.dev/bench';

const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);

async function nodeReady(name: string): Promise<boolean> {
  const node = await core.readNode({ name }).catch(() => undefined);
  return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** `docker pull` then `docker run` (until the engine says running) of an image, on an empty engine. */
async function pullAndRun(docker: Docker, image: string, command: string[]): Promise<number> {
  const t0 = Date.now();
  const stream = await docker.pull(image);
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
  const container = await docker.createContainer({ Image: image, Cmd: command });
  await container.start();
  const ms = Date.now() - t0;
  await container.remove({ force: true });
  await docker.getImage(image).remove();
  return ms;
}

async function podReady(namespace: string, name: string, node: string, image: string, command: string[]): Promise<number> {
  const t0 = Date.now();
  await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': node },
        tolerations: [{ key: 'lattice.dev/provider', operator: 'Exists', effect: 'NoSchedule' }],
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image, command, resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } } }],
      },
    },
  });
  await waitFor(
    `pod ${name} Ready`,
    async () => (await core.readNamespacedPod({ namespace, name })).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    { timeoutMs: 180_000, intervalMs: 100 },
  );
  return Date.now() - t0;
}

async function main(): Promise<void> {
  const namespace = uniqueName('bench-join');
  const gatewayNamespace = `${namespace}-gw`;
  await kubectl(['create', 'namespace', namespace]);
  await kubectl(['create', 'namespace', gatewayNamespace]);
  await ensureInternet();
  const grpcPort = await freePort();
  const operator = OperatorProcess.start({
    identity: 'bench-join',
    namespace: gatewayNamespace,
    watchNamespace: namespace,
    grpcHost: PUBLIC_ADDRESS,
    grpcPort,
    kubeletPort: await freePort(),
  });
  const agents: MachineProcess[] = [];
  const nodes: string[] = [];
  const joinToReady: number[] = [];
  const firstPod = new Map(IMAGES.map((i) => [i.what, [] as number[]]));
  const baseline = new Map(IMAGES.map((i) => [i.what, [] as number[]]));
  try {
    await operator.gatewayListening();
    for (let run = 0; run < RUNS; run++) {
      const machine: Machine = await createMachine();
      for (const image of IMAGES) baseline.get(image.what)!.push(await pullAndRun(machine.docker, image.hub, image.command));
      const node = `${namespace}-${run}`;
      nodes.push(node);
      const stateDir = path.join(machine.home, '.lattice-agent');
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      await writeFile(path.join(stateDir, 'config.yaml'), toYaml({ labels: { [LABEL]: namespace } }), { mode: 0o600 });
      const token = await createJoinToken(gatewayNamespace);

      const t0 = Date.now();
      const join = spawnInMachine(machine, process.execPath, [...AGENT, 'join', '--gateway', `${PUBLIC_ADDRESS}:${grpcPort}`, '--token', token, '--name', node, '--cpu', '1', '--memory', '1Gi']);
      if ((await join.done) !== 0) throw new Error(`join failed: ${join.output.join('')}`);
      agents.push(spawnInMachine(machine, process.execPath, [...AGENT, 'run']));
      await waitFor(`node ${node} Ready`, () => nodeReady(node), { timeoutMs: 60_000, intervalMs: 100 });
      joinToReady.push(Date.now() - t0);
      // The first pod of each image: the engine is empty, so each pulls through the relay.
      for (const image of IMAGES) firstPod.get(image.what)!.push(await podReady(namespace, `${image.what}-${run}`, node, image.relayed, image.command));
    }
  } finally {
    for (const agent of agents) agent.child.kill('SIGTERM');
    await Promise.all(agents.map((a) => a.done));
    await operator.stop();
    await removeAllMachines();
    await kubectl(['delete', 'namespace', namespace, gatewayNamespace, '--wait=false']).catch(() => undefined);
    for (const node of nodes) await core.deleteNode({ name: node }).catch(() => undefined);
  }

  const busyboxBaseline = baseline.get('busybox')!;
  report('Join on a fresh machine (a bed machine behind NAT, its engine empty)', 'docker pull+run', [
    { what: 'lattice-agent join -> Node Ready', samples: joinToReady, baseline: busyboxBaseline },
    ...IMAGES.map((i) => ({ what: `first pod Ready, ${i.what} pulled through the gateway`, samples: firstPod.get(i.what)!, baseline: baseline.get(i.what)! })),
  ]);
  const p50 = (xs: number[]) => percentile(xs, 50);
  console.log(`\ngoals: Node Ready < 10 s (p50 ${(p50(joinToReady) / 1000).toFixed(1)} s), first pod Ready < 60 s (p50 ${(p50(firstPod.get('busybox')!) / 1000).toFixed(1)} s busybox, ${(p50(firstPod.get('postgres')!) / 1000).toFixed(1)} s postgres)`);
}

await main();
