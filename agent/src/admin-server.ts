// The agent's local admin API, on loopback only: health for supervisors, metrics, and the status
// the desktop app shows (status, the pods bound here, earnings). It exposes nothing a local user
// could not already see, and answers no web page that rebinds a name of its own to loopback.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { offerOf, type AgentConfig } from './config.js';
import type { GatewayConnection } from './connection.js';
import { refusedNonLoopback } from './loopback-host.js';

export interface AdminServer {
  port: number;
  close(): Promise<void>;
}

export async function startAdminServer(options: {
  port: number;
  connection: GatewayConnection;
  nodeName: string;
  config: () => AgentConfig;
  registry: Registry;
}): Promise<AdminServer> {
  const server = http.createServer((req, res) => {
    if (refusedNonLoopback(req, res)) return;
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    switch (req.method === 'GET' ? req.url : undefined) {
      case '/healthz':
        return json(200, { ok: true });
      case '/readyz':
        return options.connection.state === 'connected' ? json(200, { ok: true }) : json(503, { ok: false, state: options.connection.state });
      case '/status':
        return json(200, { node: options.nodeName, connection: options.connection.state, offer: offerOf(options.config()) });
      case '/pods':
        return json(200, { pods: options.connection.pods.list() });
      case '/earnings':
        return json(200, { earnings: options.connection.earnings ?? null });
      case '/metrics':
        void options.registry.metrics().then((text) => {
          res.writeHead(200, { 'content-type': options.registry.contentType });
          res.end(text);
        });
        return;
      default:
        return json(404, { error: 'not found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
