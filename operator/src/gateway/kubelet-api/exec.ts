// /exec over SPDY/3.1, as a kubelet's streaming server speaks it (remotecommand protocol
// v4.channel.k8s.io). A Kubernetes 1.35 apiserver always reaches a kubelet this way for exec:
// kubectl's WebSocket (v5.channel.k8s.io) is translated to SPDY by the apiserver
// (TranslateStreamCloseWebsocketRequests, on since 1.30), and kubectl's SPDY fallback is proxied
// through as is. Only from 1.36, and only for nodes declaring ExtendWebSocketsToKubelet, does the
// apiserver pass WebSockets on to the kubelet.
//
// The client opens one SPDY stream per role, named by its `streamType` header: error, stdin,
// stdout, stderr (not with a TTY) and resize (with a TTY). Once all the streams the query asked
// for are there, the command starts on the agent; when it ends, the error stream carries a
// metav1.Status (Success, or NonZeroExitCode with the code) and the session closes.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { AgentStream, StreamMux } from '../streams.js';
import { STDOUT } from '../streams.js';
import { HttpError } from './admission.js';
import { writeWithBackpressure } from './backpressure.js';
import type { ExecQuery } from './query.js';
import { SpdySession, type SpdyStream } from './spdy/session.js';
import { exitStatus, internalErrorStatus, type Status } from './status.js';

export const STREAM_PROTOCOL_V4 = 'v4.channel.k8s.io';
type StreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** How long the client has to open its streams after the upgrade (the kubelet's default). */
const DEFAULT_STREAM_CREATION_TIMEOUT_MS = 30_000;

/** The 101 answer to a SPDY upgrade request, or the HttpError to refuse it with. */
export function spdyHandshake(req: IncomingMessage): string {
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (!upgrade.includes('spdy/3.1')) {
    throw new HttpError(
      400,
      `unable to upgrade: this kubelet API streams exec over SPDY/3.1, not "${req.headers.upgrade ?? ''}" (the kube-apiserver translates kubectl's WebSockets to SPDY)`,
    );
  }
  const offered = (req.headers['x-stream-protocol-version'] ?? '')
    .toString()
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (offered.length === 0) throw new HttpError(400, 'unable to upgrade: header X-Stream-Protocol-Version does not exist in the request');
  if (!offered.includes(STREAM_PROTOCOL_V4)) {
    throw new HttpError(403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${STREAM_PROTOCOL_V4}]`);
  }
  return [
    'HTTP/1.1 101 Switching Protocols',
    'Connection: Upgrade',
    'Upgrade: SPDY/3.1',
    `X-Stream-Protocol-Version: ${STREAM_PROTOCOL_V4}`,
    '',
    '',
  ].join('\r\n');
}

export interface ExecTarget {
  mux: StreamMux;
  podUid: string;
  container: string;
}

export interface ExecSessionOptions {
  logger: Logger;
  streamCreationTimeoutMs?: number;
}

/** Runs one exec session on a socket that has just been answered with the 101. */
export async function serveExec(socket: Duplex, target: ExecTarget, query: ExecQuery, options: ExecSessionOptions): Promise<void> {
  const { stdin, stdout, stderr, tty } = query.options;
  const expected = new Set<StreamType>(['error']);
  if (stdin) expected.add('stdin');
  if (stdout) expected.add('stdout');
  if (stderr) expected.add('stderr');
  if (tty) expected.add('resize');

  const streams = new Map<StreamType, SpdyStream>();
  let allOpened!: () => void;
  const opened = new Promise<void>((resolve) => (allOpened = resolve));
  const session = new SpdySession(socket, {
    maxStreams: expected.size,
    onStream: (stream) => {
      const type = stream.header('streamType') as StreamType | undefined;
      if (!type || !expected.has(type) || streams.has(type)) {
        stream.destroy(new Error(`unexpected stream type ${JSON.stringify(type)}`));
        return;
      }
      streams.set(type, stream);
      if (streams.size === expected.size) allOpened();
    },
  });
  const sessionOver = session.run();

  const timeoutMs = options.streamCreationTimeoutMs ?? DEFAULT_STREAM_CREATION_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  const ready = await Promise.race([
    opened.then(() => true),
    sessionOver.then(() => false),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!ready) {
    options.logger.info({ opened: [...streams.keys()], expected: [...expected] }, 'exec client did not open its streams');
    session.goAway();
    return;
  }

  let agent: AgentStream;
  try {
    agent = target.mux.open({ podUid: target.podUid, container: target.container, kind: 'exec', exec: query.options });
  } catch (err) {
    // The agent disconnected since the request was admitted.
    await endSession(session, streams, internalErrorStatus(err instanceof Error ? err.message : String(err)));
    return;
  }
  // If the client goes away first, the command's session on the agent ends with it.
  void sessionOver.then((err) => {
    if (err) options.logger.info({ err }, 'exec connection broke');
    agent.close('the exec client disconnected');
  });
  const input = streams.get('stdin');
  if (input) void pumpStdin(input, agent);
  const resize = streams.get('resize');
  if (resize) void pumpResizes(resize, agent, options.logger);

  const out = streams.get('stdout');
  // With a TTY the terminal has one output; the kubelet drops stderr the client did not ask for.
  const err = tty ? out : streams.get('stderr');
  try {
    for await (const chunk of agent) {
      const sink = chunk.channel === STDOUT ? out : err;
      if (sink && !sink.destroyed) await writeWithBackpressure(sink, chunk.data);
    }
  } catch (error) {
    options.logger.warn({ err: error }, 'exec output stream aborted');
  }
  await endSession(session, streams, statusOf(await agent.done));
}

/** Reports the outcome on the error stream, ends our side of every stream, then the session. */
async function endSession(session: SpdySession, streams: Map<StreamType, SpdyStream>, status: Status): Promise<void> {
  const writable = [...streams.values()].filter((s) => s.writable);
  for (const stream of writable) {
    if (stream === streams.get('error')) stream.end(JSON.stringify(status));
    else stream.end();
  }
  await Promise.allSettled(writable.map((s) => finished(s, { readable: false })));
  session.goAway();
}

function statusOf({ exitCode, error }: { exitCode?: number; error?: string }): Status {
  // kubectl reads the code as an unsigned byte; anything else is not an exit code it can relay.
  if (exitCode !== undefined && Number.isInteger(exitCode) && exitCode >= 0 && exitCode <= 255 && !error) {
    return exitStatus(exitCode);
  }
  return internalErrorStatus(error ?? `the agent reported exit code ${exitCode}, which is not a process exit status`);
}

async function pumpStdin(input: SpdyStream, agent: AgentStream): Promise<void> {
  try {
    for await (const chunk of input) await agent.write(chunk as Buffer);
    await agent.endStdin();
  } catch {
    // The client reset its stdin stream: the session is ending anyway.
  }
}

/** kubectl sends one JSON TerminalSize per line: {"Width":80,"Height":24}. */
const TerminalSizeSchema = z.object({ Width: z.number().int().min(0).max(10_000), Height: z.number().int().min(0).max(10_000) });
const MAX_RESIZE_LINE = 1024;

async function pumpResizes(stream: SpdyStream, agent: AgentStream, logger: Logger): Promise<void> {
  let buffered = '';
  try {
    for await (const chunk of stream) {
      buffered += (chunk as Buffer).toString('utf8');
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (!line) continue;
        const size = TerminalSizeSchema.safeParse(safeJson(line));
        if (size.success) agent.resize(size.data.Width, size.data.Height);
        else logger.info({ line }, 'ignoring a malformed terminal resize');
      }
      if (buffered.length > MAX_RESIZE_LINE) throw new Error('a terminal resize message is too long');
    }
  } catch (err) {
    logger.info({ err }, 'resize stream ended');
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
