// Provider "machines" for the suites: each a network namespace behind NAT with a Docker engine of
// its own, made and removed by hack/machines (the one implementation of the network; this file
// only calls it and reads what it records in .lattice/machines/NAME/machine.env).
//
//   await ensureInternet();                          // before binding anything to PUBLIC_ADDRESS
//   const m = await createMachine();                 // afterAll: removeMachine(m) or removeAllMachines()
//   await m.docker.listContainers();                 // its engine, not the host's
//   await m.exec(['curl', '-fs', `http://${PUBLIC_REGISTRY}/v2/`]);
//   const agent = spawnInMachine(m, process.execPath, ['--import', 'tsx', 'agent/src/cli.ts', 'run', '--state-dir', ...]);
//
// From a machine the cluster is reachable only at PUBLIC_ADDRESS (what binds there on the host);
// the host's loopback and other addresses refuse, other machines and the host cannot reach it.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { repoRoot, stateDir } from './cluster.js';
import { spawnCaptured, type CapturedProcess } from './processes.js';

/** The cluster's public address: on a link of the host that leads nowhere, the only host address a machine reaches. */
export const PUBLIC_ADDRESS = '198.18.0.1';
/** The public registry (a read-only view of the loopback registry's library/* images): the machines' mirror of Docker Hub. */
export const PUBLIC_REGISTRY = `${PUBLIC_ADDRESS}:5000`;

const MACHINES_SCRIPT = path.join(repoRoot, 'hack/machines');

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type MachineProcess = CapturedProcess;

export interface Machine {
  name: string;
  /** .lattice/machines/NAME: the engine's data, the machine's files. */
  dir: string;
  /** HOME for processes spawned in the machine (an agent's default state dir lands there). */
  home: string;
  netns: string;
  /** The machine's own address (eth0), behind its NAT. */
  address: string;
  /** The host's end of the machine's link (refuses the machine, like the host's other addresses). */
  gateway: string;
  /** The address the host sees the machine's connections come from (its "home router's"). */
  natAddress: string;
  dockerSocket: string;
  /** A client for the machine's engine. */
  docker: Docker;
  /** Runs argv inside the machine's network namespace; resolves with its exit code and output (never rejects on a non-zero exit). */
  exec(argv: string[], options?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<ExecResult>;
  /** Cuts the machine's line ('down': what either side sends is lost, connections stall) or restores it. */
  setLink(state: 'up' | 'down'): Promise<void>;
}

const created = new Set<string>();
let pruned: Promise<void> | undefined;

/** A machine name no other suite or run uses: ≤ 11 characters (it names a network interface). */
export function machineName(prefix = 'm'): string {
  const time = Date.now().toString(36).slice(-5);
  const random = Math.random().toString(36).slice(2, 6);
  return `${prefix}${time}${random}`.slice(0, 11);
}

function script(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ExecResult> {
  return run(MACHINES_SCRIPT, args, { cwd: repoRoot, env: { ...process.env, ...env } });
}

function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 0, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number' && !err.killed) return reject(err);
      // A command killed for its timeout reports 124, as timeout(1) does.
      const code = err ? (err.killed ? 124 : (err.code as number)) : 0;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

function readMachineEnv(name: string): Record<string, string> {
  const file = path.join(stateDir, 'machines', name, 'machine.env');
  const entries = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const);
  return Object.fromEntries(entries);
}

/**
 * Makes sure the machines' internet exists (`hack/machines internet`: PUBLIC_ADDRESS on the host, the
 * public registry, the firewall); createMachine does too. Call it before binding a server to
 * PUBLIC_ADDRESS, such as a gateway started ahead of the machines. It stays until `make down`.
 */
export async function ensureInternet(): Promise<void> {
  const result = await script(['internet']);
  if (result.code !== 0) throw new Error(`hack/machines internet failed (${result.code}):\n${result.stderr}${result.stdout}`);
}

/**
 * Creates a machine (`hack/machines up NAME`) and resolves once its engine answers. A machine left
 * by a run that crashed (its owner process gone) is removed first, once per process.
 */
export async function createMachine(name: string = machineName()): Promise<Machine> {
  pruned ??= script(['prune']).then(() => undefined);
  await pruned;
  const up = await script(['up', name], { LATTICE_MACHINE_OWNER: String(process.pid) });
  if (up.code !== 0) {
    // What it made so far goes; its engine's log stays in .lattice/logs.
    await script(['down', name]);
    throw new Error(`hack/machines up ${name} failed (${up.code}):\n${up.stderr}${up.stdout}`);
  }
  created.add(name);
  const env = readMachineEnv(name);
  const field = (key: string): string => {
    const value = env[key];
    if (!value) throw new Error(`machine.env of ${name} has no ${key}`);
    return value;
  };
  const netns = field('NETNS');
  return {
    name,
    dir: path.join(stateDir, 'machines', name),
    home: field('HOME_DIR'),
    netns,
    address: field('ADDRESS'),
    gateway: field('GATEWAY'),
    natAddress: field('NAT_ADDRESS'),
    dockerSocket: field('DOCKER_SOCKET'),
    docker: new Docker({ socketPath: field('DOCKER_SOCKET') }),
    exec: (argv, options = {}) => run('ip', ['netns', 'exec', netns, ...argv], { cwd: repoRoot, env: { ...process.env, ...options.env }, timeoutMs: options.timeoutMs }),
    setLink: async (state) => {
      const result = await script(['link', name, state]);
      if (result.code !== 0) throw new Error(`hack/machines link ${name} ${state} failed (${result.code}): ${result.stderr}`);
    },
  };
}

/** Removes a machine: its processes (those spawned in it too), containers, engine, network and files. */
export async function removeMachine(machine: Machine | string): Promise<void> {
  const name = typeof machine === 'string' ? machine : machine.name;
  const down = await script(['down', name]);
  if (down.code !== 0) throw new Error(`hack/machines down ${name} failed (${down.code}):\n${down.stderr}${down.stdout}`);
  created.delete(name);
}

/** Removes every machine this process created and did not remove yet (for afterAll). */
export async function removeAllMachines(): Promise<void> {
  const errors: string[] = [];
  for (const name of [...created]) await removeMachine(name).catch((err: Error) => errors.push(err.message));
  if (errors.length) throw new Error(errors.join('\n'));
}

/**
 * Starts a long-running process inside the machine's network namespace (the Lattice agent, a
 * server), from the repository root, with HOME in the machine's directory and DOCKER_HOST on its
 * engine unless env says otherwise.
 */
export function spawnInMachine(machine: Machine, command: string, args: string[], env: NodeJS.ProcessEnv = {}): MachineProcess {
  // `ip netns exec` execs the command: child.pid and child.kill() are the command's own.
  return spawnCaptured('ip', ['netns', 'exec', machine.netns, command, ...args], {
    ...process.env,
    HOME: machine.home,
    DOCKER_HOST: `unix://${machine.dockerSocket}`,
    ...env,
  });
}

export type ConnectResult = 'connected' | 'refused' | 'timeout' | `failed: ${string}`;

/**
 * Opens a TCP connection from inside the machine to host:port and says how it went: a refusal
 * (RST, ICMP unreachable) comes back at once, a dropped SYN runs into timeoutMs.
 */
export async function connectFrom(machine: Machine, host: string, port: number, timeoutMs = 3000): Promise<ConnectResult> {
  const seconds = (timeoutMs / 1000).toFixed(1);
  const result = await machine.exec(['timeout', seconds, 'bash', '-c', 'exec 3<>"/dev/tcp/$0/$1"', host, String(port)], { timeoutMs: timeoutMs + 5000 });
  if (result.code === 0) return 'connected';
  if (result.code === 124) return 'timeout';
  if (/refused/i.test(result.stderr)) return 'refused';
  return `failed: ${result.stderr.trim()}`;
}
