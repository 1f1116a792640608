// Runs the agent as a child process and keeps it running: when it exits on its own it is started
// again after a delay that doubles with each quick failure (capped), and resets once a run has
// lasted long enough to count as healthy. stop() ends it with SIGTERM (the agent leaves its
// containers running and adopts them at the next start) and SIGKILL only if it hangs.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import type { ProcessState } from '../contract.js';

export interface Backoff {
  initialMs: number;
  maxMs: number;
  /** A run at least this long resets the delay to initialMs. */
  stableAfterMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 1_000, maxMs: 60_000, stableAfterMs: 30_000 };

/** The delay before restart number `attempt` (0-based): initialMs, doubling, at most maxMs. */
export function backoffDelay(attempt: number, backoff: Pick<Backoff, 'initialMs' | 'maxMs'>): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 30));
}

export interface AgentCommand {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const STOP_TIMEOUT_MS = 15_000;
const LOG_LINES_KEPT = 500;

/**
 * Emits 'change' when its state changes, 'line' for each line the agent prints, and 'exit'
 * (code, signal) when the process ends.
 */
export class AgentSupervisor extends EventEmitter {
  state: ProcessState = 'stopped';
  restarts = 0;
  lastExit: string | null = null;
  nextRestartAt: Date | null = null;
  /** The agent's admin API, as it announced it in its log. */
  adminUrl: string | null = null;
  readonly log: string[] = [];
  private child?: ChildProcess;
  private wanted = false;
  private attempt = 0;
  private startedAt = 0;
  private restartTimer?: NodeJS.Timeout;
  private exited?: Promise<void>;

  constructor(
    private readonly command: AgentCommand,
    private readonly backoff: Backoff = DEFAULT_BACKOFF,
  ) {
    super();
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** Starts the agent (and keeps it running) unless it already is. */
  start(): void {
    this.wanted = true;
    if (this.child || this.restartTimer) return;
    this.attempt = 0;
    this.spawn();
  }

  /** Stops the agent and keeps it stopped. */
  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.nextRestartAt = null;
    const child = this.child;
    if (!child) {
      this.setState('stopped');
      return;
    }
    this.setState('stopping');
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(killer);
  }

  private spawn(): void {
    this.restartTimer = undefined;
    this.nextRestartAt = null;
    this.adminUrl = null;
    const child = spawn(this.command.command, this.command.args, { cwd: this.command.cwd, env: { ...process.env, ...this.command.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.startedAt = Date.now();
    this.setState('starting');
    child.once('spawn', () => this.setState('running'));
    for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (line) => this.line(line));
    this.exited = new Promise((resolve) => {
      // 'error' without 'exit' means it never started (e.g. the command is missing).
      child.once('error', (err) => {
        this.line(`the agent could not be started: ${err.message}`);
        if (child.exitCode === null && child.pid === undefined) this.ended(child, null, null, resolve);
      });
      child.once('exit', (code, signal) => this.ended(child, code, signal, resolve));
    });
  }

  private ended(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, resolve: () => void): void {
    if (this.child !== child) return resolve();
    this.child = undefined;
    this.adminUrl = null;
    this.lastExit = signal ? `killed by ${signal}` : `exited with code ${code}`;
    this.emit('exit', code, signal);
    if (!this.wanted) {
      this.setState('stopped');
      return resolve();
    }
    if (Date.now() - this.startedAt >= this.backoff.stableAfterMs) this.attempt = 0;
    const delay = backoffDelay(this.attempt++, this.backoff);
    this.restarts++;
    this.nextRestartAt = new Date(Date.now() + delay);
    this.line(`the agent ${this.lastExit}; restarting in ${Math.round(delay / 100) / 10} s`);
    this.restartTimer = setTimeout(() => this.spawn(), delay);
    this.setState('restarting');
    resolve();
  }

  private line(line: string): void {
    const admin = /"admin":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(line);
    if (admin) {
      this.adminUrl = admin[1]!;
      this.emit('change');
    }
    this.log.push(line);
    if (this.log.length > LOG_LINES_KEPT) this.log.splice(0, this.log.length - LOG_LINES_KEPT);
    this.emit('line', line);
  }

  private setState(state: ProcessState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('change');
  }
}
