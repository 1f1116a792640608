#!/usr/bin/env node
// lattice-agent: turns this machine into a Lattice provider node.
//
//   lattice-agent join --gateway HOST:PORT --token TOKEN --name NODE [offer flags]
//   lattice-agent run [offer flags]
//
// State (key, certificates, config.yaml) lives in --state-dir, readable by its owner only.
import { watch } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import Docker from 'dockerode';
import pino from 'pino';
import { stringify as toYaml } from 'yaml';
import type { PlatformImages, PodEvent, PodStatus, Welcome } from '@lattice/protocol';
import { startAdminServer } from './admin-server.js';
import { loadConfig, offerOf, defaultStateDir, type AgentConfig } from './config.js';
import { GatewayConnection } from './connection.js';
import { ensureStateDir, loadIdentity, saveIdentity } from './identity.js';
import { join } from './join.js';
import { RegistryRelay } from './registry/relay.js';
import { agentMetrics } from './metrics.js';
import { DockerRuntime } from './runtime/index.js';
import { TailnetExposures } from './tailnet/exposures.js';

const AGENT_VERSION = '0.1.0';

interface CommonFlags {
  stateDir: string;
  config?: string;
  cpu?: string;
  memory?: string;
  disk?: string;
  maxPods?: number;
  adminPort?: number;
  sandboxImage?: string;
  dockerSocket?: string;
  registryRelayPort?: number;
  logLevel?: AgentConfig['logLevel'];
}

const integer = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('expected a whole number');
  return n;
};

function withCommonFlags(cmd: Command): Command {
  return cmd
    .option('--state-dir <dir>', 'where the node identity and config live', process.env.LATTICE_AGENT_STATE_DIR ?? defaultStateDir())
    .option('--config <file>', 'config file (default: <state-dir>/config.yaml)')
    .option('--cpu <quantity>', 'CPU offered to the cluster, e.g. 2 or 1500m')
    .option('--memory <quantity>', 'memory offered to the cluster, e.g. 4Gi')
    .option('--disk <quantity>', "disk offered to pods' writable layers, all together, e.g. 20Gi (default 10Gi)")
    .option('--max-pods <n>', 'most pods at once', integer)
    .option('--admin-port <port>', 'loopback port of the local admin API (0: any free port)', integer)
    .option('--sandbox-image <ref>', "image of each pod's network sandbox (default: the one the gateway names)")
    .option('--docker-socket <path>', "the Docker engine's socket (default /var/run/docker.sock)")
    .option('--registry-relay-port <port>', "loopback port the engine reaches the cluster's registry on, through the agent (default 15001)", integer)
    .option('--log-level <level>', 'debug, info, warn or error');
}

const configFile = (flags: CommonFlags) => flags.config ?? path.join(flags.stateDir, 'config.yaml');

const overrides = (flags: CommonFlags) => ({
  cpu: flags.cpu,
  memory: flags.memory,
  disk: flags.disk,
  maxPods: flags.maxPods,
  adminPort: flags.adminPort,
  sandboxImage: flags.sandboxImage,
  dockerSocket: flags.dockerSocket,
  registryRelayPort: flags.registryRelayPort,
  logLevel: flags.logLevel,
});

async function joinCommand(flags: CommonFlags & { gateway: string; token: string; name: string }): Promise<void> {
  await ensureStateDir(flags.stateDir);
  const file = configFile(flags);
  // Validate the offer before spending the token on it.
  const config = await loadConfig(file, { ...overrides(flags), gateway: flags.gateway });
  const identity = await join({ gateway: flags.gateway, token: flags.token, nodeName: flags.name, stateDir: flags.stateDir });
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (!existing || flags.cpu || flags.memory || flags.disk || flags.maxPods) {
    const { gateway: _g, ...rest } = config;
    await writeFile(file, toYaml({ ...rest, gateway: flags.gateway }), { mode: 0o600 });
  }
  console.log(`joined as node "${identity.nodeName}"; start serving with: lattice-agent run --state-dir ${flags.stateDir}`);
}

async function runCommand(flags: CommonFlags): Promise<void> {
  const file = configFile(flags);
  let config = await loadConfig(file, overrides(flags));
  const log = pino({ level: config.logLevel, base: { component: 'agent' } });
  // A promise a callback let go of is a bug to log; the pods this machine runs keep running.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled promise rejection (a bug in Lattice); carrying on'));
  const identity = await loadIdentity(flags.stateDir);
  const docker = new Docker({ socketPath: config.dockerSocket });
  const version = await docker.version().catch((err: Error) => {
    throw new Error(`Docker does not answer on ${config.dockerSocket} (${err.message}): start Docker, then run the agent again`);
  });
  const metrics = agentMetrics();
  // The runtime reports to the connection, which is built on the runtime: tie the knot here.
  const reports: { connection?: GatewayConnection } = {};
  const onStatus = (status: PodStatus) => reports.connection?.podStatus(status);
  const onEvent = (event: PodEvent) => reports.connection?.podEvent(event);
  // A pod's reported status carries its tailnet address, once its tailnet node is up.
  const tailnet = new TailnetExposures({
    binary: config.tailnetBinary,
    stateDir: flags.stateDir,
    logger: log.child({ part: 'tailnet' }),
    report: onStatus,
    event: onEvent,
    up: metrics.tailnetUp,
  });
  // The agent's own images: the gateway names them when it welcomes the agent; the config may override them.
  const ownImages = (named?: PlatformImages | null): PlatformImages => ({
    sandbox: config.sandboxImage ?? named?.sandbox ?? '',
    isolation: config.isolationImage ?? named?.isolation ?? '',
    git: config.gitImage ?? named?.git ?? '',
  });
  const images = ownImages();
  const runtime = new DockerRuntime({
    docker,
    nodeName: identity.nodeName,
    images,
    stateDir: flags.stateDir,
    logger: log.child({ part: 'runtime' }),
    onStatus: (status) => onStatus(tailnet.observe(status)),
    onEvent,
    tailnet,
    serviceHosts: (namespace) => reports.connection?.serviceHosts(namespace) ?? Promise.resolve([]),
    ceiling: () => offerOf(config),
  });
  await runtime.start();
  // Before connecting: pods name images through the relay from the first one on.
  const registry = new RegistryRelay(() => connection.registryCall(), log.child({ part: 'registry' }));
  const registryRelay = await registry.listen(config.registryRelayPort);
  const connection: GatewayConnection = new GatewayConnection({
    identity,
    saveIdentity: (renewed) => saveIdentity(flags.stateDir, renewed),
    runtime,
    offer: () => offerOf(config),
    system: {
      os: `${version.Os ?? 'linux'} (${os.type()} ${os.release()})`,
      architecture: version.Arch === 'arm64' ? 'arm64' : 'amd64',
      kernelVersion: version.KernelVersion ?? os.release(),
      containerRuntimeVersion: `docker://${version.Version}`,
      machineCpuMillis: os.cpus().length * 1000,
      machineMemoryBytes: os.totalmem(),
    },
    agentVersion: AGENT_VERSION,
    registryRelay,
    log: log.child({ part: 'connection' }),
  });
  connection.on('welcome', (welcome: Welcome) => Object.assign(images, ownImages(welcome.images)));
  reports.connection = connection;
  connection.on('state', (state) => {
    metrics.connected.set(state === 'connected' ? 1 : 0);
    if (state === 'connecting') metrics.dials.inc();
  });
  connection.on('refused', (reason: string) => {
    log.error({ reason }, 'the gateway refused this node; stopping');
    void shutdown(1);
  });
  const admin = await startAdminServer({ port: config.adminPort, connection, nodeName: identity.nodeName, config: () => config, registry: metrics.registry });
  log.info({ node: identity.nodeName, gateway: identity.gateway, admin: `http://127.0.0.1:${admin.port}` }, 'agent starting');
  connection.start();

  // A change of the config file takes effect live: the gateway updates the Node's offer.
  let reloadTimer: NodeJS.Timeout | undefined;
  const reload = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(async () => {
      try {
        config = await loadConfig(file, overrides(flags));
        connection.offerChanged();
        log.info({ offer: offerOf(config) }, 'config reloaded');
      } catch (err) {
        log.error({ err: (err as Error).message }, 'the changed config is invalid; keeping the previous one');
      }
    }, 200);
  };
  const watcher = watch(path.dirname(file), (_event, name) => {
    if (name === path.basename(file)) reload();
  });
  process.on('SIGHUP', reload);

  let stopping = false;
  async function shutdown(code: number): Promise<void> {
    if (stopping) return;
    stopping = true;
    log.info('agent stopping; containers keep running and are adopted at the next start');
    watcher.close();
    await connection.stop();
    await registry.close();
    await runtime.stop();
    await admin.close();
    process.exit(code);
  }
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
}

const program = new Command('lattice-agent').description('Lend this machine to a Lattice cluster as a provider node').version(AGENT_VERSION);

withCommonFlags(program.command('join'))
  .description('join a cluster with a join token')
  .requiredOption('--gateway <host:port>', 'the gateway address the cluster operator gave you')
  .requiredOption('--token <token>', 'the join token (lt1.…)')
  .requiredOption('--name <node>', 'the node name this machine will have in the cluster')
  .action((flags) => joinCommand(flags));

withCommonFlags(program.command('run'))
  .description('serve as a provider node (after join)')
  .action((flags) => runCommand(flags));

program.parseAsync().catch((err: Error) => {
  console.error(`lattice-agent: ${err.message}`);
  process.exit(1);
});
