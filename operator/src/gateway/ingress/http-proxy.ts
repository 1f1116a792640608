// HTTPS requests to public URLs, relayed to a replica through its node's tunnel: HTTP/1.1 and
// HTTP/2 clients alike (the replica always speaks HTTP/1.1), bodies streamed both ways without
// buffering, WebSocket (HTTP/1.1 Upgrade) piped raw once the request is relayed.
import http from 'node:http';
import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { countBytes, type IngressMetrics } from './metrics.js';
import type { Route, Routes } from './routes.js';
import { endAfterFlush, type TunnelSocket } from './tunnel.js';

export type Request = http.IncomingMessage | http2.Http2ServerRequest;
export type Response = http.ServerResponse | http2.Http2ServerResponse;

/** Marks the answers the ingress gives itself, so a check of a URL can tell them from the app's. */
export const INGRESS_HEADER = 'x-lattice-ingress';

export interface RelayDeps {
  routes: Routes;
  dial(pod: k8s.V1Pod, port: number): TunnelSocket;
  /** Whether one more request from this client address is within its rate (client-limits.ts). */
  admit(address: string): boolean;
  baseDomain: string;
  metrics: IngressMetrics;
  log: Logger;
}

// Hop-by-hop headers (RFC 9110 7.6.1) and what HTTP/2 forbids: never relayed.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-authenticate', 'proxy-authorization', 'http2-settings', 'host']);

type Refusal = { status: number; reason: string; message: string; headers?: Record<string, string> };
type Target = { route: Route; pod: k8s.V1Pod } | Refusal;

export class HttpRelay {
  /** Keep-alive connection pools, one per replica and port: a tunnel is reused like a socket. */
  private readonly pools = new Map<string, http.Agent>();

  constructor(private readonly deps: RelayDeps) {}

  /** The request handler of the HTTPS server. */
  handle(req: Request, res: Response): void {
    const started = process.hrtime.bigint();
    const target = this.target(req);
    if ('status' in target) return this.answer(res, target);
    const { route, pod } = target;
    const { metrics } = this.deps;
    let upstream: http.ClientRequest;
    try {
      upstream = http.request({ method: req.method, path: req.url, headers: this.forwardHeaders(req), agent: this.pool(pod, route.port) });
    } catch (err) {
      // The provider disconnected since the replica was picked.
      return this.answer(res, { status: 502, reason: 'upstream-error', message: (err as Error).message });
    }
    countBytes(metrics, req, route.endpoint, 'in');
    // A client that goes away mid-request takes the relayed request with it.
    req.on('error', () => upstream.destroy());
    res.on('error', () => upstream.destroy());
    req.pipe(upstream);
    upstream.on('response', (answer) => {
      metrics.latency.observe({ kind: 'http' }, Number(process.hrtime.bigint() - started) / 1e9);
      metrics.requests.inc({ endpoint: route.endpoint, kind: 'http', code: `${Math.floor((answer.statusCode ?? 0) / 100)}xx` });
      const headers = Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
      (res as http.ServerResponse).writeHead(answer.statusCode ?? 502, headers);
      // Each chunk goes out as it comes: a streamed response reaches the client as it is produced.
      countBytes(metrics, answer, route.endpoint, 'out');
      answer.pipe(res as http.ServerResponse);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      this.deps.log.info({ endpoint: route.endpoint, pod: pod.metadata?.name, err: err.message }, 'relaying a request failed');
      this.answer(res, { status: 502, reason: 'upstream-error', message: `The replica ${pod.metadata?.name} could not be reached through its provider: ${err.message}` });
    });
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
  }

  /** A WebSocket (or other HTTP/1.1 Upgrade): the request goes through, then bytes both ways. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const started = process.hrtime.bigint();
    socket.on('error', () => undefined);
    const target = this.target(req);
    if ('status' in target) {
      this.deps.metrics.refused.inc({ reason: target.reason });
      const extra = Object.entries(target.headers ?? {}).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      socket.end(`HTTP/1.1 ${target.status} ${http.STATUS_CODES[target.status]}\r\n${INGRESS_HEADER}: ${target.reason}\r\n${extra}content-type: text/plain\r\nconnection: close\r\n\r\n${target.message}\n`);
      return;
    }
    const { route, pod } = target;
    const { metrics } = this.deps;
    let tunnel: TunnelSocket;
    try {
      tunnel = this.deps.dial(pod, route.port);
    } catch (err) {
      this.deps.metrics.refused.inc({ reason: 'upstream-error' });
      socket.end(`HTTP/1.1 502 Bad Gateway\r\n${INGRESS_HEADER}: upstream-error\r\nconnection: close\r\n\r\n${(err as Error).message}\n`);
      return;
    }
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i]!;
      if (!/^x-forwarded-/i.test(name)) lines.push(`${name}: ${req.rawHeaders[i + 1]}`);
    }
    for (const [name, value] of Object.entries(forwarded(req))) lines.push(`${name}: ${value}`);
    tunnel.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) tunnel.write(head);
    tunnel.once('data', () => metrics.latency.observe({ kind: 'websocket' }, Number(process.hrtime.bigint() - started) / 1e9));
    metrics.requests.inc({ endpoint: route.endpoint, kind: 'upgrade', code: '1xx' });
    countBytes(metrics, socket, route.endpoint, 'in');
    countBytes(metrics, tunnel, route.endpoint, 'out');
    socket.pipe(tunnel);
    tunnel.pipe(socket);
    tunnel.on('error', () => socket.destroy());
    tunnel.on('close', () => endAfterFlush(socket));
    socket.on('close', () => endAfterFlush(tunnel));
  }

  close(): void {
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
  }

  /** Where a request goes, or the answer the ingress gives itself. */
  private target(req: Request): Target {
    if (!this.deps.admit(req.socket?.remoteAddress ?? '')) {
      return {
        status: 429,
        reason: 'client-requests',
        message: 'Too many requests from your address: the Lattice ingress takes a limited number a second from each client. Try again shortly.',
        headers: { 'retry-after': '1' },
      };
    }
    const host = hostOf(req);
    const suffix = `.${this.deps.baseDomain}`;
    const label = host.endsWith(suffix) ? host.slice(0, -suffix.length) : '';
    const route = label && !label.includes('.') ? this.deps.routes.http(label) : undefined;
    if (!route) {
      return {
        status: 404,
        reason: 'no-route',
        message: `No public URL is served at ${host || 'this address'}. Public URLs have the form https://<workload>--<namespace>.${this.deps.baseDomain}, for a Workload with a port that has expose: public.`,
      };
    }
    const pod = this.deps.routes.pick(route);
    if (!pod) {
      return {
        status: 503,
        reason: 'no-ready-replica',
        message: `${route.service} in namespace ${route.namespace} has no ready replica on a connected provider right now. Check it with: kubectl get workload ${route.service} -n ${route.namespace}`,
      };
    }
    return { route, pod };
  }

  private answer(res: Response, target: Refusal): void {
    this.deps.metrics.refused.inc({ reason: target.reason });
    const body = `<!doctype html><html><head><title>${target.status} ${http.STATUS_CODES[target.status]}</title></head><body><h1>${target.status} ${http.STATUS_CODES[target.status]}</h1><p>${escapeHtml(target.message)}</p><p>Lattice ingress</p></body></html>\n`;
    (res as http.ServerResponse).writeHead(target.status, { 'content-type': 'text/html; charset=utf-8', [INGRESS_HEADER]: target.reason, 'cache-control': 'no-store', ...target.headers });
    res.end(body);
  }

  private forwardHeaders(req: Request): http.OutgoingHttpHeaders {
    const headers: http.OutgoingHttpHeaders = {};
    const connectionTokens = new Set(String(req.headers.connection ?? '').toLowerCase().split(',').map((s) => s.trim()));
    for (const [name, value] of Object.entries(req.headers)) {
      if (name.startsWith(':') || HOP_BY_HOP.has(name) || connectionTokens.has(name) || name.startsWith('x-forwarded-') || value === undefined) continue;
      headers[name] = value;
    }
    headers.host = authorityOf(req);
    return { ...headers, ...forwarded(req) };
  }

  private pool(pod: k8s.V1Pod, port: number): http.Agent {
    const key = `${pod.metadata!.uid}:${port}`;
    let pool = this.pools.get(key);
    if (!pool) {
      // Pools whose replica went away hold no connection any more: drop them as new ones come.
      for (const [k, p] of this.pools) {
        if (Object.keys(p.sockets).length === 0 && Object.keys(p.freeSockets).length === 0) {
          p.destroy();
          this.pools.delete(k);
        }
      }
      // Idle tunnels close before a typical server's keep-alive timeout (Node's: 5 s) could race a new request.
      pool = new http.Agent({ keepAlive: true, maxFreeSockets: 16, timeout: 4_000 });
      (pool as unknown as { createConnection: () => Duplex }).createConnection = () => this.deps.dial(pod, port);
      this.pools.set(key, pool);
    }
    return pool;
  }
}

/** The request's host (HTTP/2 :authority or Host), lower-case, without the port. */
function hostOf(req: Request): string {
  return authorityOf(req).toLowerCase().replace(/:\d+$/, '');
}

function authorityOf(req: Request): string {
  return String(req.headers[':authority'] ?? req.headers.host ?? '');
}

function forwarded(req: Request): Record<string, string> {
  return {
    'x-forwarded-for': req.socket?.remoteAddress ?? '',
    'x-forwarded-proto': 'https',
    'x-forwarded-host': authorityOf(req),
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
