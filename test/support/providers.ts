// Real provider agents for the end-to-end suites: the `lattice-agent` CLI, run as child
// processes, joined to a gateway with real join tokens: on this host's Docker engine, or on a
// provider machine of its own (machines.ts), as a provider elsewhere runs it.
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import Docker from 'dockerode';
import { stringify as toYaml } from 'yaml';
import { adminKubeConfig, kubectl, repoRoot, waitFor } from './cluster.js';
import { spawnInMachine, type Machine } from './machines.js';
import { freePort } from './operator.js';
import { spawnCaptured, type CapturedProcess } from './processes.js';

const AGENT_CLI = path.join(repoRoot, 'agent/src/cli.ts');
/** The agent's registry relay port when its config names none (agent/src/config.ts). */
const DEFAULT_RELAY_PORT = 15001;
export const REGISTRY = process.env.LATTICE_REGISTRY ?? '127.0.0.1:5001';
export const BUSYBOX = `${REGISTRY}/lattice/busybox:1`;

export interface AgentProcess {
  name: string;
  stateDir: string;
  child?: ChildProcess;
  output: string[];
  /** Where its engine reaches the cluster registry, through the agent (registryRelayPort), host:port. */
  registryRelay?: string;
  /** The provider machine it runs on; none: this host, sharing its engine with the suites. */
  machine?: Machine;
}

/** The Docker engine the agent drives. */
export const engineOf = (agent: AgentProcess): Docker => agent.machine?.docker ?? docker;

/** The name the agent's engine holds an image of the cluster registry by: through its relay. */
export function onProvider(agent: AgentProcess, image: string): string {
  if (!agent.registryRelay) throw new Error(`agent ${agent.name} has no known registry relay`);
  return image.startsWith(`${REGISTRY}/`) ? `${agent.registryRelay}/${image.slice(REGISTRY.length + 1)}` : image;
}

/** How a suite runs the agent: from source by default, or another build of it (the desktop's executable). */
export interface AgentCli {
  command: string;
  args: string[];
}

// One node process with tsx's loader (not the tsx wrapper, which would outlive a SIGKILL).
const SOURCE_CLI: AgentCli = { command: process.execPath, args: ['--import', 'tsx', AGENT_CLI] };

function runCli(args: string[], cli: AgentCli = SOURCE_CLI, machine?: Machine): CapturedProcess {
  const command = [...cli.args, ...args];
  return machine ? spawnInMachine(machine, cli.command, command) : spawnCaptured(cli.command, command, process.env);
}

export async function joinAgent(options: { gateway: string; token: string; name: string; stateDir: string; extra?: string[]; cli?: AgentCli; machine?: Machine }) {
  const { output, done } = runCli(
    [
      'join',
      '--gateway',
      options.gateway,
      '--token',
      options.token,
      '--name',
      options.name,
      '--state-dir',
      options.stateDir,
      ...(options.extra ?? []),
    ],
    options.cli,
    options.machine,
  );
  const code = await done;
  return { code, output: output.join('') };
}

export async function newStateDir(name: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `lattice-agent-${name}-`));
}

/** Starts `lattice-agent run` for a joined state directory. */
export function runAgent(agent: AgentProcess, cli?: AgentCli): void {
  const { child, output } = runCli(['run', '--state-dir', agent.stateDir], cli, agent.machine);
  agent.child = child;
  agent.output = output;
}

export async function stopAgent(agent: AgentProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const child = agent.child;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

const docker = new Docker();

/** The containers the agent runs for a node (sandboxes included), by the labels it sets, on `engine`. */
export async function nodeContainers(nodeName: string, engine = docker): Promise<Docker.ContainerInfo[]> {
  return engine.listContainers({ all: true, filters: { label: [`lattice.dev/node=${nodeName}`] } });
}

/**
 * Removes every container the agents of these nodes left, then the namespace networks no
 * container uses any more (a stopped agent leaves them; Docker has room for only ~30 bridges).
 */
export async function cleanupNodes(nodeNames: string[], stateDirs: string[]): Promise<void> {
  for (const node of nodeNames) {
    for (const c of await nodeContainers(node)) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  }
  await docker.pruneNetworks({ filters: JSON.stringify({ label: ['lattice.dev/namespace'] }) }).catch(() => undefined);
  for (const dir of stateDirs) await rm(dir, { recursive: true, force: true });
}

/** Waits until the agent exited and everything it printed is in its output; resolves with its exit code. */
export async function waitForExit(agent: AgentProcess, timeoutMs = 30_000): Promise<number> {
  return waitFor('the agent process to exit', () => (agent.child?.stdout?.closed && agent.child.stderr?.closed ? (agent.child.exitCode ?? undefined) : undefined), { timeoutMs });
}

/** What a provider offers, as its config file says it. */
export interface AgentOffer {
  cpu: string;
  memory: string;
  maxPods: number;
  /** Labels for its Node; the gateway keeps only provider.lattice.dev/* and topology.kubernetes.io/{region,zone}. */
  labels?: Record<string, string>;
}

/**
 * Writes the agent's config file (<state-dir>/config.yaml). Before `join` it seeds what join keeps
 * (the labels); while `run` runs, the agent reloads it live and the gateway updates the Node.
 */
export async function writeAgentConfig(stateDir: string, offer: AgentOffer, gateway?: string, registryRelayPort?: number): Promise<void> {
  const config = {
    ...(gateway ? { gateway } : {}),
    ...(registryRelayPort ? { registryRelayPort } : {}),
    cpu: offer.cpu,
    memory: offer.memory,
    maxPods: offer.maxPods,
    labels: offer.labels ?? {},
  };
  await writeFile(path.join(stateDir, 'config.yaml'), toYaml(config), { mode: 0o600 });
}

/**
 * A new state directory with this offer, joined to the gateway with the token: ready for runAgent.
 * On a machine, the agent's state is in its home and its relay on the default port, as a user's;
 * here agents share the host, and each takes a relay port of its own.
 */
export async function joinedAgent(name: string, gateway: string, token: string, offer: AgentOffer, options: { cli?: AgentCli; machine?: Machine } = {}): Promise<AgentProcess> {
  const { cli, machine } = options;
  const relayPort = machine ? DEFAULT_RELAY_PORT : await freePort();
  const stateDir = machine ? path.join(machine.home, `.lattice-agent-${name}`) : await newStateDir(name);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const agent: AgentProcess = { name, stateDir, output: [], registryRelay: `127.0.0.1:${relayPort}`, machine };
  await writeAgentConfig(agent.stateDir, offer, undefined, machine ? undefined : relayPort);
  const joined = await joinAgent({
    gateway,
    token,
    name,
    stateDir: agent.stateDir,
    extra: ['--cpu', offer.cpu, '--memory', offer.memory, '--max-pods', String(offer.maxPods)],
    cli,
    machine,
  });
  if (joined.code !== 0) throw new Error(`lattice-agent join ${name} failed (${joined.code}): ${joined.output}`);
  return agent;
}

/** Removes the Docker networks the agents made for these namespaces (an agent that is killed leaves them). */
export async function removeNamespaceNetworks(namespaces: string[]): Promise<void> {
  for (const namespace of namespaces) {
    for (const network of await docker.listNetworks({ filters: { label: [`lattice.dev/namespace=${namespace}`] } })) {
      await docker.getNetwork(network.Id).remove().catch((err: Error) => console.error(`removing network ${network.Name}: ${err.message}`));
    }
  }
}

/**
 * What an end-to-end suite leaves once its operator and agents are stopped, removed: the Lattice
 * objects and pods of its namespaces (pods forced: no agent is left to confirm their deletion), the
 * namespaces and the gateway's, the provider Nodes, and the agents' containers, state and networks.
 */
export async function removeSuiteLeftovers(suite: { namespaces: string[]; gatewayNamespace: string; agents: AgentProcess[] }): Promise<void> {
  const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
  for (const namespace of suite.namespaces) {
    await kubectl(['delete', 'workloads,postgresinstances,cronworkloads', '--all', '-n', namespace, '--wait=false']).catch(() => undefined);
    await kubectl(['delete', 'pods', '--all', '-n', namespace, '--force', '--grace-period=0']).catch(() => undefined);
  }
  for (const name of [...suite.namespaces, suite.gatewayNamespace]) await core.deleteNamespace({ name }).catch(() => undefined);
  for (const agent of suite.agents) await core.deleteNode({ name: agent.name }).catch(() => undefined);
  await cleanupNodes(
    suite.agents.map((agent) => agent.name),
    suite.agents.map((agent) => agent.stateDir).filter(Boolean),
  );
  await removeNamespaceNetworks(suite.namespaces);
}
