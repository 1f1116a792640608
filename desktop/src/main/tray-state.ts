// What the tray icon and its tooltip say, from the agent's process and connection state, a pause
// and the availability window. Pure: the clock is a parameter.
import { isWithinWindow } from '@lattice/protocol';
import type { AgentInfo, Settings, TrayStatus } from '../contract.js';
import { offerConfig } from './settings.js';

export function trayState(input: { agent: AgentInfo; settings: Settings; pausedUntil: Date | null; node: string | null; now: Date }): { status: TrayStatus; tooltip: string } {
  const { agent, settings, pausedUntil, node, now } = input;
  const who = node ? `Lattice: ${node}` : 'Lattice';
  if (pausedUntil && pausedUntil > now) return { status: 'paused', tooltip: `${who} is paused until ${pausedUntil.toLocaleString()}` };
  if (agent.process === 'stopped' || agent.process === 'stopping') return { status: 'stopped', tooltip: `${who} is stopped` };
  if (agent.process === 'restarting') return { status: 'disconnected', tooltip: `${who}: the agent stopped unexpectedly (${agent.lastExit}); restarting` };
  if (agent.process === 'starting' || agent.connection === 'unknown') return { status: 'starting', tooltip: `${who} is starting` };
  if (agent.connection !== 'connected') return { status: 'disconnected', tooltip: `${who} cannot reach the cluster; retrying` };
  if (!isWithinWindow(offerConfig(settings).availability, now)) return { status: 'outside-hours', tooltip: `${who} is connected, outside its hours: no new work` };
  return { status: 'running', tooltip: `${who} is running and connected` };
}
