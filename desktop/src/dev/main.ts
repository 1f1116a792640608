// `npm run dev -w desktop`: the app without Electron's shell. Builds nothing itself (the dev
// script runs `vite build` first); serves the built renderer and the DesktopApi on loopback and
// prints the URL to open, which carries the per-run secret. Runs the agent from this checkout, or
// with --agent-dir the agent executable a packaged app runs (npm run build:agent builds it).
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import pino from 'pino';
import { packagedAgentCommand, sourceAgentCommand } from '../main/agent-command.js';
import { DesktopCore } from '../main/core.js';
import { devServer } from './server.js';

const desktopDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const number = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
};

const program = new Command('lattice-desktop-dev')
  .description('Serve the Lattice desktop app to a browser, backed by the real agent')
  .option('--port <port>', 'loopback port (0: any free port)', number, 5180)
  .option('--app-dir <dir>', "the app's preferences folder", path.join(os.homedir(), '.lattice-desktop'))
  .option('--agent-state-dir <dir>', "the agent's state folder (default: <app-dir>/agent)")
  .option('--restart-initial-ms <ms>', 'first delay before restarting a crashed agent', number, 1_000)
  .option('--console-url <url>', "the cluster's console, for 'Open console'")
  .option('--agent-dir <dir>', 'run the agent executable in this folder, as a packaged app runs its resources/agent (default: the agent from source)')
  .parse();

const flags = program.opts<{ port: number; appDir: string; agentStateDir?: string; restartInitialMs: number; consoleUrl?: string; agentDir?: string }>();
const log = pino({ base: { component: 'desktop-dev' } });
const core = new DesktopCore({
  appDir: flags.appDir,
  agentStateDir: flags.agentStateDir ?? path.join(flags.appDir, 'agent'),
  agent: flags.agentDir ? packagedAgentCommand(path.resolve(flags.agentDir)) : sourceAgentCommand(),
  backoff: { initialMs: flags.restartInitialMs, maxMs: 60_000, stableAfterMs: 30_000 },
  consoleUrl: flags.consoleUrl,
  log,
});
await core.init();
const secret = randomBytes(24).toString('base64url');
const server = devServer({ core, secret, rendererDir: path.join(desktopDir, 'dist/renderer'), log }).listen(flags.port, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  log.info({ url: `http://127.0.0.1:${port}/#secret=${secret}` }, 'desktop dev server listening');
});

let closing = false;
const shutdown = async () => {
  if (closing) return;
  closing = true;
  server.closeAllConnections();
  server.close();
  await core.close();
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
