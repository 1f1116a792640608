import type { AgentInfo, Settings } from '../contract.js';
import { trayState } from './tray-state.js';

const agent: AgentInfo = { process: 'running', pid: 10, restarts: 0, nextRestartAt: null, lastExit: null, connection: 'connected' };
const settings: Settings = {
  cpuCores: 1,
  memoryGib: 1,
  availability: { limited: true, start: '09:00', end: '17:00', days: ['mon', 'tue', 'wed', 'thu', 'fri'], timeZone: 'UTC' },
  autoStart: true,
};
const wednesdayNoon = new Date('2026-03-04T12:00:00Z');
const state = (change: Partial<Parameters<typeof trayState>[0]>) => trayState({ agent, settings, pausedUntil: null, node: 'n1', now: wednesdayNoon, ...change }).status;

describe('trayState', () => {
  it('says running when connected inside its hours', () => {
    expect(state({})).toBe('running');
    expect(state({ settings: { ...settings, availability: { ...settings.availability, limited: false } }, now: new Date('2026-03-07T03:00:00Z') })).toBe('running');
  });
  it('says outside hours when connected outside its window', () => {
    expect(state({ now: new Date('2026-03-04T18:00:00Z') })).toBe('outside-hours');
    expect(state({ now: new Date('2026-03-07T12:00:00Z') })).toBe('outside-hours');
  });
  it('says disconnected when the agent cannot reach the gateway or is restarting', () => {
    expect(state({ agent: { ...agent, connection: 'disconnected' } })).toBe('disconnected');
    expect(state({ agent: { ...agent, process: 'restarting', pid: null } })).toBe('disconnected');
  });
  it('says stopped and paused, a pause winning while it lasts', () => {
    expect(state({ agent: { ...agent, process: 'stopped', pid: null } })).toBe('stopped');
    expect(state({ agent: { ...agent, process: 'stopped', pid: null }, pausedUntil: new Date('2026-03-05T00:00:00Z') })).toBe('paused');
    expect(state({ agent: { ...agent, process: 'stopped', pid: null }, pausedUntil: new Date('2026-03-04T00:00:00Z') })).toBe('stopped');
  });
});
