// /portForward over SPDY/3.1, as a kubelet's streaming server speaks it (portforward.k8s.io):
// `kubectl port-forward` reaches it through the apiserver (kubectl's WebSocket tunnels this very
// SPDY session since PortForwardWebsockets). For each local connection the client opens two
// streams with one requestID and a port: `error` and `data`. Once both are there the gateway opens
// a dial stream to the pod's port through its node's agent (as the public ingress does) and pipes
// the data stream through it; a failure is written on the error stream as text, as the kubelet does.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { TunnelSocket } from '../ingress/tunnel.js';
import type { StreamMux } from '../streams.js';
import { HttpError } from './admission.js';
import { SpdySession, type SpdyStream } from './spdy/session.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

/** The 101 answer to a port-forward upgrade, or the HttpError to refuse it with. */
export function portForwardHandshake(req: IncomingMessage): string {
  if (!(req.headers.upgrade ?? '').toLowerCase().includes('spdy/3.1')) {
    throw new HttpError(400, `unable to upgrade: this kubelet API forwards ports over SPDY/3.1, not "${req.headers.upgrade ?? ''}"`);
  }
  const offered = String(req.headers['x-stream-protocol-version'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  if (!offered.includes(PORT_FORWARD_PROTOCOL)) {
    throw new HttpError(403, `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${PORT_FORWARD_PROTOCOL}]`);
  }
  return ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}`, '', ''].join('\r\n');
}

export interface PortForwardTarget {
  mux: StreamMux;
  podUid: string;
  /** namespace/name, for messages. */
  pod: string;
}

interface Pair {
  port: number;
  data?: SpdyStream;
  error?: SpdyStream;
}

/** Serves one port-forward session until the client closes it; each stream pair is one connection. */
export async function servePortForward(socket: Duplex, target: PortForwardTarget, logger: Logger): Promise<void> {
  const pairs = new Map<string, Pair>();
  const session = new SpdySession(socket, {
    // A session forwards as many connections as the user makes; each is two streams.
    maxStreams: Number.MAX_SAFE_INTEGER,
    onStream: (stream) => {
      const type = stream.header('streamType');
      const port = Number(stream.header('port'));
      const requestId = stream.header('requestID');
      if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535 || !requestId) {
        stream.destroy(new Error(`a port-forward stream needs streamType data or error, a port and a requestID`));
        return;
      }
      const pair = pairs.get(requestId) ?? { port };
      if (pair[type] || pair.port !== port) {
        stream.destroy(new Error(`request ${requestId} already has a ${type} stream`));
        return;
      }
      pair[type] = stream;
      pairs.set(requestId, pair);
      if (pair.data && pair.error) {
        pairs.delete(requestId);
        forward(pair as Required<Pair>, target, logger);
      }
    },
  });
  const broken = await session.run();
  if (broken) logger.info({ err: broken }, 'port-forward connection broke');
  session.goAway();
}

function forward({ port, data, error }: Required<Pair>, target: PortForwardTarget, logger: Logger): void {
  // The client writes nothing on the error stream; reading it lets its FIN through. Writing on it
  // fails once the client is gone: nothing is left to tell then.
  error.resume();
  error.on('error', () => undefined);
  let tunnel: TunnelSocket;
  try {
    tunnel = new TunnelSocket(target.mux.open({ kind: 'dial', podUid: target.podUid, container: '', dial: { port } }));
  } catch (err) {
    error.end(`error forwarding port ${port} to pod ${target.pod}: ${(err as Error).message}`);
    data.destroy();
    return;
  }
  logger.info({ port }, 'port-forward connection');
  data.pipe(tunnel);
  tunnel.pipe(data);
  tunnel.on('error', (err) => {
    if (error.writable) error.end(`error forwarding port ${port} to pod ${target.pod}: ${err.message}`);
    data.destroy();
  });
  tunnel.on('close', () => {
    if (error.writable) error.end();
  });
  data.on('error', () => tunnel.destroy());
  data.on('close', () => tunnel.destroy());
}
