// GET /containerLogs/{namespace}/{pod}/{container}: the container's log from its agent, written
// to the response as it arrives (chunked; Node writes each chunk through to the socket).
import type { ServerResponse } from 'node:http';
import type { OutputChunk, StreamMux } from '../streams.js';
import { STDERR, STDOUT } from '../streams.js';
import { writeWithBackpressure } from './backpressure.js';
import type { LogQuery } from './query.js';

/**
 * The protocol has no acknowledgement of OpenStream: an agent refuses a log (unknown container,
 * no previous instance) by ending the stream at once. Holding the response headers this long
 * lets such a refusal become the kubelet's 400, without delaying a quiet `--follow` for long.
 */
const COMMIT_AFTER_MS = 1_000;

export interface LogTarget {
  mux: StreamMux;
  podUid: string;
  container: string;
}

export async function serveLogs(res: ServerResponse, target: LogTarget, query: LogQuery): Promise<void> {
  const stream = target.mux.open({ podUid: target.podUid, container: target.container, kind: 'logs', logs: query.options });
  res.once('close', () => stream.close('the client closed the log request'));
  const wanted = (chunk: OutputChunk) =>
    query.stream === 'All' || (query.stream === 'Stdout' ? chunk.channel === STDOUT : chunk.channel === STDERR);

  const chunks = stream[Symbol.asyncIterator]();
  let next = chunks.next();
  if (await endsWithin(next, COMMIT_AFTER_MS)) {
    const { error } = await stream.done;
    if (error) {
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end(error);
      return;
    }
  }
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' });
  try {
    for (let result = await next; !result.done && !res.destroyed; next = chunks.next(), result = await next) {
      if (wanted(result.value)) await writeWithBackpressure(res, result.value.data);
    }
  } catch {
    // The stream was aborted (the client fell too far behind): end what was sent, as the
    // kubelet does when a log breaks off mid-way.
  }
  res.end();
}

/** Whether the iterator result arrives within `ms` and says the stream is over. */
async function endsWithin(next: Promise<IteratorResult<OutputChunk>>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([next.then((r) => r.done === true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
