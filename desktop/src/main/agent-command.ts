// How the app starts the agent. From a source checkout (development, tests): node with tsx's
// loader on agent/src/cli.ts, one process, so a signal reaches the agent itself. A packaged app
// runs the agent's single executable (built by scripts/build-agent.ts into build/agent, which
// electron-builder ships as resources/agent; see src/electron/main.ts).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentCommand } from './supervisor.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The agent executable's file name on this platform. */
export const AGENT_EXECUTABLE = process.platform === 'win32' ? 'lattice-agent.exe' : 'lattice-agent';

/** Where `npm run build:agent -w desktop` puts it (electron-builder's extraResources copy it from here). */
export const BUILT_AGENT_DIR = path.join(repoRoot, 'desktop/build/agent');

export function sourceAgentCommand(): AgentCommand {
  return { command: process.execPath, args: ['--import', 'tsx', path.join(repoRoot, 'agent/src/cli.ts')], cwd: repoRoot };
}

/** The agent executable in `dir`: resources/agent in a packaged app, BUILT_AGENT_DIR before packaging. */
export function packagedAgentCommand(dir: string): AgentCommand {
  return { command: path.join(dir, AGENT_EXECUTABLE), args: [] };
}
