// `kubectl exec` in a container: a Docker exec on a hijacked connection, stdin written as it comes.
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { ExecOptions } from '@lattice/protocol';
import { type StdioChunk, stdioChunks } from './stdio.js';

export interface ExecSession {
  /** Sends bytes to the process's stdin (when the session has one). */
  write(data: Buffer): void;
  /** Closes the process's stdin. */
  end(): void;
  /** Resizes the session's terminal (TTY sessions). */
  resize(width: number, height: number): void;
  /** stdout (1) and stderr (2); with a TTY everything is stdout. Must be read for the session to end. */
  output: AsyncIterable<StdioChunk>;
  /** The process's exit code, once its output has ended. */
  exit: Promise<number>;
}

// Docker may take a moment after the streams close to record the exit code.
const EXIT_CODE_POLLS = 50;
const EXIT_CODE_POLL_MS = 100;

async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let i = 0; i < EXIT_CODE_POLLS; i++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await sleep(EXIT_CODE_POLL_MS);
  }
  throw new Error(`exec ${exec.id} still runs after its output ended`);
}

/**
 * Starts `options.command` in the container. Failures (no such container, not running) reject
 * `exit` and end `output` with the error. Aborting `signal` closes the connection; Docker cannot
 * kill an exec'd process, which ends with its stdin and output gone as a detached shell would.
 */
export function startExec(docker: Docker, containerId: string, options: ExecOptions, signal?: AbortSignal): ExecSession {
  const started = (async () => {
    const exec = await docker.getContainer(containerId).exec({
      Cmd: options.command,
      AttachStdin: options.stdin,
      AttachStdout: options.stdout,
      AttachStderr: options.stderr,
      Tty: options.tty,
    });
    const stream = (await exec.start({ hijack: true, stdin: options.stdin, Tty: options.tty })) as Duplex;
    // Errors reach whoever reads `output`; this keeps one nobody reads from crashing the agent.
    stream.on('error', () => undefined);
    return { exec, stream };
  })();
  const withStream = (action: (stream: Duplex, exec: Docker.Exec) => unknown) => {
    // Each action waits for the session and they run in call order, so early stdin is not lost.
    started.then(({ stream, exec }) => action(stream, exec)).catch(() => undefined);
  };
  signal?.addEventListener('abort', () => withStream((stream) => stream.destroy()), { once: true });

  const exit = started.then(async ({ exec, stream }) => {
    // Only the output side: stdin may legitimately never be closed by the client.
    await finished(stream, { writable: false }).catch(() => undefined);
    return exitCodeOf(exec);
  });
  exit.catch(() => undefined);

  return {
    write: (data) =>
      withStream((stream) => {
        if (stream.writable) stream.write(data);
      }),
    end: () => withStream((stream) => stream.end()),
    resize: (width, height) => withStream((_stream, exec) => exec.resize({ w: width, h: height }).catch(() => undefined)),
    output: (async function* () {
      const { stream } = await started;
      yield* stdioChunks(stream, options.tty);
    })(),
    exit,
  };
}
