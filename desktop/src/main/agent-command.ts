// How the app starts the agent. From a source checkout (development, tests): node with tsx's
// loader on agent/src/cli.ts, one process, so a signal reaches the agent itself. A packaged app
// passes the bundled agent instead (see src/electron/main.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentCommand } from './supervisor.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function sourceAgentCommand(): AgentCommand {
  return { command: process.execPath, args: ['--import', 'tsx', path.join(repoRoot, 'agent/src/cli.ts')], cwd: repoRoot };
}
