// Child processes the suites start and read: stdout and stderr captured together, as they print.
import { spawn, type ChildProcess } from 'node:child_process';
import { repoRoot } from './cluster.js';

export interface CapturedProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output: string[];
  /** Resolves with its exit code once it exited and all it printed is in output. */
  done: Promise<number>;
}

/** Starts `command` in `cwd` (the repository root unless said), its output captured. */
export function spawnCaptured(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = repoRoot): CapturedProcess {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
  // 'close', not 'exit': only then has everything it printed been read into output.
  const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return { child, output, done };
}
