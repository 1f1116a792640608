// The operator's HTTP endpoints for Kubernetes and Prometheus:
//   /healthz  the process is alive (the event loop answers)
//   /readyz   200 once the caches synced and, on the leader, the controllers started; else 503
//             with the reason
//   /metrics  every lattice_* metric, plus the Node.js process metrics
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  registry: Registry;
  /** Why the process is not ready, or undefined when it is. */
  notReady: () => string | undefined;
  log: Logger;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });
  app.get('/readyz', (_req, res) => {
    const reason = options.notReady();
    res.status(reason === undefined ? 200 : 503).type('text/plain').send(reason ?? 'ok');
  });
  app.get('/metrics', async (_req, res) => {
    res.type(options.registry.contentType).send(await options.registry.metrics());
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port, options.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const port = (server.address() as AddressInfo).port;
  options.log.info({ address: `${options.host}:${port}` }, 'serving /healthz, /readyz and /metrics');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
