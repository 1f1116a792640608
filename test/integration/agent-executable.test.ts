// The agent as the packaged desktop app ships it: one executable (a Node single-executable
// application of agent/src/cli.ts, built by `npm run build:agent -w desktop`), run the way the app
// runs it from its resources, on a provider machine of the bed (its own network namespace behind
// NAT, its own Docker engine). It joins a real gateway at the cluster's public address, its Node
// turns Ready, and a pod scheduled on it runs in the machine's Docker: the bundle carries
// everything it needs (agent.proto included), and no addon.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { builtAgentExecutable } from '../support/agent-executable.js';
import { adminKubeConfig, kubectl, uniqueName, waitFor } from '../support/cluster.js';
import { PUBLIC_ADDRESS, createMachine, ensureInternet, removeAllMachines, type Machine } from '../support/machines.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { BUSYBOX, joinedAgent, removeSuiteLeftovers, runAgent, stopAgent, type AgentCli, type AgentProcess } from '../support/providers.js';

const run = promisify(execFile);
const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
const id = uniqueName('exe');
const namespace = `${id}-ns`;
const gatewayNamespace = `${id}-gw`;
const nodeName = `${id}-node`;
let operator: OperatorProcess;
let gateway: string;
let agent: AgentProcess | undefined;
let agentExecutable: AgentCli;
let machine: Machine;

beforeAll(async () => {
  agentExecutable = await builtAgentExecutable();
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  await ensureInternet();
  machine = await createMachine();
  const grpcPort = await freePort();
  gateway = `${PUBLIC_ADDRESS}:${grpcPort}`;
  operator = OperatorProcess.start({ identity: 'exe-operator', namespace: gatewayNamespace, watchNamespace: namespace, grpcHost: PUBLIC_ADDRESS, grpcPort, kubeletPort: await freePort() });
  await operator.gatewayListening();
}, 120_000);

afterAll(async () => {
  if (agent) await stopAgent(agent);
  await operator?.stop();
  await removeSuiteLeftovers({ namespaces: [namespace], gatewayNamespace, agents: agent ? [agent] : [] });
  await removeAllMachines();
}, 120_000);

describe('the agent executable the desktop app ships', () => {
  test('is one self-contained file that prints its usage', async () => {
    const { size } = await stat(agentExecutable.command);
    expect(size).toBeGreaterThan(10 * 2 ** 20);
    const { stdout, stderr } = await run(agentExecutable.command, [...agentExecutable.args, '--help'], { cwd: '/' });
    expect(stdout).toMatch(/Usage: lattice-agent/);
    expect(stdout).toMatch(/join \[options\]\s+join a cluster with a join token/);
    expect(stdout).toMatch(/run \[options\]\s+serve as a provider node/);
    // No warning of a require the executable cannot satisfy.
    expect(stderr).toBe('');
  });

  test("joins a real gateway from another machine, its Node turns Ready, and a pod scheduled there runs in that machine's Docker", async () => {
    const token = await createJoinToken(gatewayNamespace);
    agent = await joinedAgent(nodeName, gateway, token, { cpu: '1', memory: '1Gi', maxPods: 5 }, { cli: agentExecutable, machine });
    runAgent(agent, agentExecutable);
    await waitFor(
      'the Node Ready',
      async () => {
        const node = await core.readNode({ name: nodeName }).catch(() => undefined);
        return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      },
      { timeoutMs: 60_000 },
    );

    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'hello' },
        spec: {
          nodeName,
          tolerations: [{ key: 'lattice.dev/provider', operator: 'Exists' }],
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image: BUSYBOX, command: ['sh', '-c', "echo hello from the agent executable; trap 'exit 0' TERM; sleep 3600 & wait"] }],
        },
      },
    });
    await waitFor(
      'the pod Running',
      async () => (await core.readNamespacedPod({ name: 'hello', namespace })).status?.phase === 'Running',
      { timeoutMs: 60_000 },
    );
    const logs = await kubectl(['logs', '-n', namespace, 'hello']);
    expect(logs).toMatch(/hello from the agent executable/);
    const containers = await machine.docker.listContainers({ filters: { label: [`lattice.dev/node=${nodeName}`, 'lattice.dev/container=main'] } });
    expect(containers).toHaveLength(1);
  });
});
