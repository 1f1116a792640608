// Joining a cluster, through the agent's own join flow (`lattice-agent join`): the token is
// checked by the gateway, the node key is made here and never leaves, and the agent's config gets
// the offer. The agent's one-line error ("lattice-agent: …") is what the user is shown.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { JoinRequest } from '../contract.js';
import { offerConfig, type SettingsStore } from './settings.js';
import type { AgentCommand } from './supervisor.js';

const NodeRecordSchema = z.object({ nodeName: z.string().min(1), gateway: z.string().min(1) });

/** The node this machine joined as, if it has joined (the agent's node.json). */
export async function joinedNode(agentStateDir: string): Promise<z.infer<typeof NodeRecordSchema> | null> {
  try {
    return NodeRecordSchema.parse(JSON.parse(await readFile(path.join(agentStateDir, 'node.json'), 'utf8')));
  } catch {
    return null;
  }
}

export class JoinFailed extends Error {}

/** Runs `lattice-agent join`; rejects with JoinFailed carrying the agent's own explanation. */
export async function joinCluster(agent: AgentCommand, store: SettingsStore, request: JoinRequest): Promise<void> {
  // The offer and hours first, so join keeps them; join re-checks the offer against the machine.
  await store.save(request.settings);
  const offer = offerConfig(request.settings);
  const args = [
    ...agent.args,
    ...['join', '--state-dir', store.agentStateDir, '--gateway', request.gateway, '--token', request.token, '--name', request.nodeName],
    ...['--cpu', offer.cpu, '--memory', offer.memory],
  ];
  const child = spawn(agent.command, args, { cwd: agent.cwd, env: { ...process.env, ...agent.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) => reject(new JoinFailed(`the agent could not be started: ${err.message}`)));
    child.once('exit', resolve);
  });
  if (code !== 0) {
    const said = /lattice-agent: ([\s\S]+)/.exec(output)?.[1]?.trim();
    throw new JoinFailed(said ? said.charAt(0).toUpperCase() + said.slice(1) : `Joining failed (exit code ${code}): ${output.trim().slice(-500)}`);
  }
}
