// `kubectl logs` for a container: Docker's log endpoint with the kubelet's options.
import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import type { LogOptions } from '@lattice/protocol';
import { type StdioChunk, stdioChunks } from './stdio.js';

export interface LogQuery {
  stdout: true;
  stderr: true;
  follow: boolean;
  timestamps: boolean;
  tail: number | 'all';
  /** Unix seconds, with a fraction. */
  since?: string;
}

/** Docker's query for the kubelet's log options; Docker's timestamps are RFC 3339 like the kubelet's. */
export function logQuery(options: LogOptions, now: number): LogQuery {
  const query: LogQuery = {
    stdout: true,
    stderr: true,
    follow: options.follow,
    timestamps: options.timestamps,
    tail: options.tailLines ?? 'all',
  };
  const sinceMs = options.sinceSeconds != null ? now - options.sinceSeconds * 1000 : options.sinceTime ? Date.parse(options.sinceTime) : NaN;
  if (Number.isFinite(sinceMs)) query.since = (sinceMs / 1000).toFixed(3);
  return query;
}

/** Cuts the stream after `limit` bytes, the last chunk included. */
export async function* limitBytes(chunks: AsyncIterable<StdioChunk>, limit: number | null | undefined): AsyncGenerator<StdioChunk> {
  let left = limit ?? Infinity;
  if (left <= 0) return;
  for await (const chunk of chunks) {
    if (chunk.data.length >= left) {
      yield { channel: chunk.channel, data: chunk.data.subarray(0, left) };
      return;
    }
    left -= chunk.data.length;
    yield chunk;
  }
}

/**
 * The container's log, following it while the container runs when asked to. Ends quietly when
 * `signal` aborts. dockerode's `logs()` buffers (and may JSON-parse) a non-followed log, so the
 * endpoint is called as a stream in both cases.
 */
function openLogStream(docker: Docker, containerId: string, query: LogQuery, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    docker.modem.dial(
      {
        path: `/containers/${encodeURIComponent(containerId)}/logs?`,
        method: 'GET',
        options: query,
        isStream: true,
        abortSignal: signal,
        statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
      },
      (err, result) => (err ? reject(err) : resolve(result as IncomingMessage)),
    );
  });
}

/**
 * The container's log, following it while the container runs when asked to. Ends quietly when
 * `signal` aborts. dockerode's `logs()` buffers (and may JSON-parse) a log it does not follow,
 * so the endpoint is read as a stream in both cases.
 */
export async function* containerLogs(
  docker: Docker,
  containerId: string,
  tty: boolean,
  options: LogOptions,
  signal: AbortSignal,
): AsyncGenerator<StdioChunk> {
  let response: IncomingMessage | undefined;
  const abort = () => response?.destroy();
  signal.addEventListener('abort', abort, { once: true });
  try {
    response = await openLogStream(docker, containerId, logQuery(options, Date.now()), signal);
    yield* limitBytes(stdioChunks(response, tty), options.limitBytes);
  } catch (err) {
    if (!signal.aborted) throw err;
  } finally {
    signal.removeEventListener('abort', abort);
    response?.destroy();
  }
}
