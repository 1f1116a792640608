// The real operator (operator/src/main.ts: controllers and gateway, leader-elected) as a child
// process, as the end-to-end suites and benchmarks run it, and the `lattice` CLI that makes join
// tokens for its gateway.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { kubeconfigPath, repoRoot, waitFor } from './cluster.js';

const OPERATOR_MAIN = path.join(repoRoot, 'operator/src/main.ts');
const OPERATOR_CLI = path.join(repoRoot, 'operator/src/cli.ts');
const run = promisify(execFile);

/**
 * A port nothing listens on right now, on any address (the OS picks it; it is free again once this
 * returns). The wildcard matters: a port free on 127.0.0.1 may be taken on the cluster's public
 * address, where gateways listen.
 */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface OperatorOptions {
  /** Identity in the leader Lease. */
  identity: string;
  /** --namespace: the gateway's Secrets and the leader Lease. */
  namespace: string;
  /** --watch-namespace: the only namespace whose Lattice objects it reconciles. */
  watchNamespace?: string;
  /** The gateway's gRPC port (agents dial <grpcHost>:<grpcPort>) and kubelet API port. */
  grpcPort: number;
  /** Where the gateway listens, and the name its certificate carries (default 127.0.0.1). */
  grpcHost?: string;
  kubeletPort: number;
  providerLossTimeoutSeconds?: number;
  disconnectGraceSeconds?: number;
  logLevel?: string;
  /** Further flags, e.g. leader election timings. */
  extra?: string[];
  /** Keep at most this many lines of output (the newest). */
  keepLines?: number;
  /** Whom it acts as (default: the cluster's admin kubeconfig). */
  kubeconfig?: string;
}

export class OperatorProcess {
  readonly output: string[] = [];
  /** Port of /healthz, /readyz and /metrics, once it logged it. */
  metricsPort?: number;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly identity: string,
    readonly child: ChildProcess,
    keepLines: number,
  ) {
    const read = (data: Buffer) => {
      for (const line of data.toString().split('\n').filter(Boolean)) {
        this.output.push(line);
        if (this.output.length > keepLines) this.output.shift();
        const serving = /"address":"127\.0\.0\.1:(\d+)".*serving \/healthz/.exec(line);
        if (serving) this.metricsPort = Number(serving[1]);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    this.exited = new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
  }

  /** Starts `node --import tsx operator/src/main.ts` (node itself: a SIGKILL must reach the operator, not a wrapper). */
  static start(options: OperatorOptions): OperatorProcess {
    const args = [
      ...['--kubeconfig', options.kubeconfig ?? kubeconfigPath, '--namespace', options.namespace],
      ...(options.watchNamespace ? ['--watch-namespace', options.watchNamespace] : []),
      ...['--leader-election-identity', options.identity, '--health-address', '127.0.0.1', '--metrics-port', '0'],
      ...['--grpc-address', `${options.grpcHost ?? '127.0.0.1'}:${options.grpcPort}`, '--serving-hosts', options.grpcHost ?? '127.0.0.1,localhost'],
      ...['--kubelet-address', '127.0.0.1', '--kubelet-port', String(options.kubeletPort)],
      ...['--provider-loss-timeout-seconds', String(options.providerLossTimeoutSeconds ?? 60)],
      ...['--disconnect-grace-seconds', String(options.disconnectGraceSeconds ?? 10)],
      ...['--log-level', options.logLevel ?? 'info'],
      ...(options.extra ?? []),
    ];
    const child = spawn(process.execPath, ['--import', 'tsx', OPERATOR_MAIN, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    return new OperatorProcess(options.identity, child, options.keepLines ?? 5000);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Whether it logged this message (a pino `msg`). */
  logged(message: string): boolean {
    return this.output.some((line) => line.includes(`"msg":"${message}"`));
  }

  url(p: string): string {
    if (this.metricsPort === undefined) throw new Error(`operator ${this.identity} has not said where it serves /metrics yet`);
    return `http://127.0.0.1:${this.metricsPort}${p}`;
  }

  async ready(timeoutMs = 60_000): Promise<void> {
    await this.waitWhileRunning(`operator ${this.identity} ready`, async () => (await fetch(this.url('/readyz'))).ok, timeoutMs);
  }

  /** Its gateway listens (it is the leader and started the gateway). */
  async gatewayListening(timeoutMs = 60_000): Promise<void> {
    await this.waitWhileRunning(`operator ${this.identity}'s gateway listening`, () => this.logged('gateway listening'), timeoutMs);
  }

  /**
   * Waits for `probe`, failing at once if the process exits first; either failure carries the
   * newest lines of its output, since a CI log is all a post-mortem has.
   */
  private async waitWhileRunning(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
    let outcome: 'done' | 'exited' | Error;
    try {
      outcome = await waitFor(what, async () => (!this.running ? 'exited' : (await probe()) && 'done'), { timeoutMs });
    } catch (err) {
      outcome = err as Error;
    }
    if (outcome === 'done') return;
    const why = outcome === 'exited' ? `operator ${this.identity} exited (${this.child.exitCode ?? this.child.signalCode}) while waiting for ${what}` : outcome.message;
    throw new Error(`${why}\n--- the last lines of its output:\n${this.output.slice(-40).join('\n')}`);
  }

  /** A number from its /metrics, e.g. lattice_gateway_connected_agents. */
  async metric(name: string): Promise<number | undefined> {
    const text = await (await fetch(this.url('/metrics'))).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.split(' ')[1]);
  }

  /** Resident memory of the process, in bytes (VmRSS from /proc). */
  async rssBytes(): Promise<number> {
    const status = await readFile(`/proc/${this.child.pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    if (!kib) throw new Error(`no VmRSS in /proc/${this.child.pid}/status`);
    return Number(kib[1]) * 1024;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    if (!this.running) return this.child.exitCode;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `lattice token create` against the gateway namespace: what a cluster operator hands a provider. */
export async function createJoinToken(gatewayNamespace: string, uses = 1, ttl = '30m'): Promise<string> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', OPERATOR_CLI, '--kubeconfig', kubeconfigPath, '-n', gatewayNamespace, 'token', 'create', '--uses', String(uses), '--ttl', ttl],
    { cwd: repoRoot },
  );
  const token = stdout.trim();
  if (!/^lt1\./.test(token)) throw new Error(`lattice token create printed no token: ${stdout}`);
  return token;
}
