// Public TCP ports (PostgreSQL, Redis): one listener on the gateway per allocated port, each
// connection relayed to a Ready replica through its node's tunnel, bytes piped both ways with
// backpressure and half-close. Listeners follow the routes: opened when a port is allocated,
// closed when it is no longer public.
import net from 'node:net';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ClientLimits } from './client-limits.js';
import { countBytes, type IngressMetrics } from './metrics.js';
import type { Routes, TcpRoute } from './routes.js';
import { endAfterFlush, type TunnelSocket } from './tunnel.js';

export class TcpRelay {
  private readonly listeners = new Map<number, { server: net.Server; route: TcpRoute }>();

  constructor(
    private readonly address: string,
    private readonly routes: Routes,
    private readonly dial: (pod: k8s.V1Pod, port: number) => TunnelSocket,
    private readonly limits: ClientLimits,
    private readonly metrics: IngressMetrics,
    private readonly log: Logger,
  ) {}

  /** Opens and closes listeners to match the routes. */
  sync(): void {
    const wanted = new Map(this.routes.tcp().map((r) => [r.gatewayPort, r]));
    for (const [port, listener] of this.listeners) {
      if (!wanted.has(port)) {
        listener.server.close();
        this.listeners.delete(port);
        this.log.info({ port, endpoint: listener.route.endpoint }, 'closed a public TCP port');
      }
    }
    for (const [port, route] of wanted) {
      const existing = this.listeners.get(port);
      if (existing) {
        existing.route = route;
        continue;
      }
      const entry = { server: net.createServer({ allowHalfOpen: true }, (socket) => this.relay(socket, entry.route)), route };
      entry.server.on('error', (err) => this.log.warn({ port, endpoint: route.endpoint, err: err.message }, 'cannot listen on a public TCP port'));
      entry.server.listen(port, this.address, () => this.log.info({ port, endpoint: route.endpoint }, 'listening on a public TCP port'));
      this.listeners.set(port, entry);
    }
  }

  close(): void {
    for (const { server } of this.listeners.values()) server.close();
    this.listeners.clear();
  }

  private relay(socket: net.Socket, route: TcpRoute): void {
    socket.on('error', () => undefined);
    if (!this.limits.admit(socket)) return;
    // No idle timeout (a pool's idle database connection is normal); keep-alive finds dead peers.
    socket.setKeepAlive(true, 60_000);
    const pod = this.routes.pick(route);
    if (!pod) {
      this.metrics.refused.inc({ reason: 'no-ready-replica' });
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    let tunnel: TunnelSocket;
    try {
      tunnel = this.dial(pod, route.port);
    } catch {
      this.metrics.refused.inc({ reason: 'upstream-error' });
      socket.destroy();
      return;
    }
    this.metrics.requests.inc({ endpoint: route.endpoint, kind: 'tcp', code: 'tcp' });
    const started = process.hrtime.bigint();
    tunnel.once('data', () => this.metrics.latency.observe({ kind: 'tcp' }, Number(process.hrtime.bigint() - started) / 1e9));
    countBytes(this.metrics, socket, route.endpoint, 'in');
    countBytes(this.metrics, tunnel, route.endpoint, 'out');
    socket.pipe(tunnel);
    tunnel.pipe(socket);
    tunnel.on('error', (err) => {
      this.log.debug({ endpoint: route.endpoint, err: err.message }, 'tunnel failed');
      socket.destroy();
    });
    tunnel.on('close', () => endAfterFlush(socket));
    socket.on('close', () => endAfterFlush(tunnel));
  }
}
