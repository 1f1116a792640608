// Everything the app does behind its window, in plain Node: onboarding, the agent's supervision,
// settings, pause, and a live view of the agent (state, pods, earnings, log). Electron's main
// process and the development server both serve the renderer from one DesktopCore, so the
// renderer sees the same behaviour in either.
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { AppEvent, AppState, DesktopApi, DockerStatus, JoinRequest, Machine, Result, Settings } from '../contract.js';
import { readAgent, type AgentView } from './agent-client.js';
import { checkDocker } from './docker-check.js';
import { JoinFailed, joinCluster, joinedNode } from './onboarding.js';
import { defaultSettings, PrefsSchema, SettingsStore, thisMachine, validateSettings, type Prefs } from './settings.js';
import { AgentSupervisor, DEFAULT_BACKOFF, type AgentCommand, type Backoff } from './supervisor.js';
import { trayState } from './tray-state.js';

export interface CoreOptions {
  /** The app's own folder (preferences). */
  appDir: string;
  /** The agent's state folder (node identity, config.yaml). */
  agentStateDir: string;
  agent: AgentCommand;
  log: Logger;
  machine?: Machine;
  backoff?: Backoff;
  /** How often the agent's admin API is read while it runs. */
  pollMs?: number;
  dockerSocket?: string;
  consoleUrl?: string;
  /** Opens a URL in the user's browser (Electron: shell.openExternal). */
  openExternal?: (url: string) => Promise<void>;
}

const ok: Result = { ok: true };
const failed = (error: string): Result => ({ ok: false, error });

export class DesktopCore implements Omit<DesktopApi, 'onEvent'> {
  readonly supervisor: AgentSupervisor;
  private readonly store: SettingsStore;
  private readonly events = new EventEmitter();
  private readonly machine: Machine;
  private readonly fallback: Settings;
  private node: { nodeName: string; gateway: string } | null = null;
  private settings: Settings;
  private prefs: Prefs = PrefsSchema.parse({});
  private view: AgentView = { connection: 'unknown', pods: [], earnings: null };
  private pollTimer?: NodeJS.Timeout;
  private pauseTimer?: NodeJS.Timeout;
  private lastState = '';

  constructor(private readonly options: CoreOptions) {
    this.machine = options.machine ?? thisMachine();
    this.fallback = defaultSettings(this.machine);
    this.settings = this.fallback;
    this.store = new SettingsStore(options.appDir, options.agentStateDir);
    const run = { ...options.agent, args: [...options.agent.args, 'run', '--state-dir', options.agentStateDir] };
    this.supervisor = new AgentSupervisor(run, options.backoff ?? DEFAULT_BACKOFF);
    this.supervisor.on('change', () => this.changed());
    this.supervisor.on('line', (line: string) => this.emit({ type: 'log', lines: [line] }));
    this.supervisor.on('exit', () => {
      this.view = { ...this.view, connection: 'unknown' };
      const lastLines = this.supervisor.log.slice(-5);
      options.log.warn({ exit: this.supervisor.lastExit, lastLines }, 'the agent exited');
    });
  }

  /** Reads what is on disk; starts the agent if this machine has joined and it should run. */
  async init(): Promise<void> {
    await mkdir(this.options.appDir, { recursive: true, mode: 0o700 });
    this.node = await joinedNode(this.options.agentStateDir);
    this.prefs = await this.store.prefs();
    this.settings = await this.store.settings(this.fallback);
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollMs ?? 2_000);
    this.schedulePauseEnd();
    if (this.node && !this.prefs.stopped && !this.paused()) this.supervisor.start();
    this.changed();
  }

  async close(): Promise<void> {
    clearInterval(this.pollTimer);
    clearTimeout(this.pauseTimer);
    await this.supervisor.stop();
  }

  subscribe(listener: (event: AppEvent) => void): () => void {
    listener({ type: 'state', state: this.state() });
    listener({ type: 'log', lines: [...this.supervisor.log] });
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  async getState(): Promise<AppState> {
    return this.state();
  }

  checkDocker(): Promise<DockerStatus> {
    return checkDocker(this.options.dockerSocket);
  }

  async join(request: JoinRequest): Promise<Result> {
    if (this.node) return failed(`This machine already joined as "${this.node.nodeName}".`);
    const checked = validateSettings(request.settings, this.machine);
    if (!checked.ok) return checked;
    const docker = await this.checkDocker();
    if (!docker.ok) return failed(docker.message);
    try {
      await joinCluster(this.options.agent, this.store, request);
    } catch (err) {
      if (err instanceof JoinFailed) return failed(err.message);
      throw err;
    }
    this.node = await joinedNode(this.options.agentStateDir);
    this.prefs = await this.store.savePrefs({ termsAcceptedAt: new Date().toISOString(), stopped: false, pausedUntil: null });
    this.settings = await this.store.settings(this.fallback);
    this.options.log.info({ node: this.node?.nodeName }, 'joined');
    this.supervisor.start();
    this.changed();
    return ok;
  }

  async saveSettings(input: Settings): Promise<Result> {
    const checked = validateSettings(input, this.machine);
    if (!checked.ok) return checked;
    await this.store.save(checked.settings);
    this.settings = checked.settings;
    this.prefs = await this.store.prefs();
    this.changed();
    return ok;
  }

  async startAgent(): Promise<Result> {
    if (!this.node) return failed('Join a cluster first.');
    this.prefs = await this.store.savePrefs({ stopped: false, pausedUntil: null });
    this.supervisor.start();
    this.changed();
    return ok;
  }

  async stopAgent(): Promise<Result> {
    this.prefs = await this.store.savePrefs({ stopped: true });
    await this.supervisor.stop();
    this.changed();
    return ok;
  }

  /** Stops the agent until midnight, local time; it starts again by itself. */
  async pauseUntilTomorrow(): Promise<Result> {
    if (!this.node) return failed('Join a cluster first.');
    const tomorrow = new Date();
    tomorrow.setHours(24, 0, 0, 0);
    this.prefs = await this.store.savePrefs({ pausedUntil: tomorrow.toISOString(), stopped: false });
    await this.supervisor.stop();
    this.schedulePauseEnd();
    this.changed();
    return ok;
  }

  async openConsole(): Promise<Result> {
    if (!this.options.consoleUrl || !this.options.openExternal) return failed('No console address is configured for this cluster.');
    await this.options.openExternal(this.options.consoleUrl);
    return ok;
  }

  private paused(): boolean {
    return !!this.prefs.pausedUntil && new Date(this.prefs.pausedUntil) > new Date();
  }

  private schedulePauseEnd(): void {
    clearTimeout(this.pauseTimer);
    if (!this.paused()) return;
    const ms = new Date(this.prefs.pausedUntil!).getTime() - Date.now();
    this.pauseTimer = setTimeout(() => void this.startAgent(), Math.min(ms, 2 ** 31 - 1));
  }

  private state(): AppState {
    const s = this.supervisor;
    const agent = {
      process: s.state,
      pid: s.pid,
      restarts: s.restarts,
      nextRestartAt: s.nextRestartAt?.toISOString() ?? null,
      lastExit: s.lastExit,
      connection: s.state === 'running' ? this.view.connection : s.state === 'stopped' ? ('stopped' as const) : ('unknown' as const),
    };
    const pausedUntil = this.paused() ? this.prefs.pausedUntil : null;
    return {
      phase: this.node ? 'joined' : 'onboarding',
      node: this.node?.nodeName ?? null,
      gateway: this.node?.gateway ?? null,
      machine: this.machine,
      settings: this.settings,
      agent,
      tray: trayState({ agent, settings: this.settings, pausedUntil: pausedUntil ? new Date(pausedUntil) : null, node: this.node?.nodeName ?? null, now: new Date() }),
      pausedUntil,
      pods: s.state === 'running' ? this.view.pods : [],
      earnings: this.view.earnings,
      consoleUrl: this.options.consoleUrl ?? null,
    };
  }

  private async poll(): Promise<void> {
    const url = this.supervisor.adminUrl;
    if (url) {
      try {
        this.view = await readAgent(url);
      } catch (err) {
        this.options.log.debug({ err: (err as Error).message }, 'reading the agent failed');
        this.view = { ...this.view, connection: 'unknown' };
      }
    }
    this.changed();
  }

  /** Emits the state if anything in it changed. */
  private changed(): void {
    const state = this.state();
    const text = JSON.stringify(state);
    if (text === this.lastState) return;
    this.lastState = text;
    this.emit({ type: 'state', state });
  }

  private emit(event: AppEvent): void {
    this.events.emit('event', event);
  }
}
