// The agent as the packaged desktop app runs it: the single executable `npm run build:agent -w
// desktop` builds into desktop/build/agent (electron-builder ships that folder as resources/agent).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { BUILT_AGENT_DIR, packagedAgentCommand } from '../../desktop/src/main/agent-command.js';
import { repoRoot } from './cluster.js';
import type { AgentCli } from './providers.js';

export { BUILT_AGENT_DIR };

/** Builds the agent executable (reused while its bundle is unchanged; a few seconds anew) and says how to run it. */
export async function builtAgentExecutable(): Promise<AgentCli> {
  await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'desktop/scripts/build-agent.ts')], { cwd: repoRoot });
  return packagedAgentCommand(BUILT_AGENT_DIR);
}
