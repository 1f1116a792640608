// The cluster's image registry on this machine's loopback, for its Docker engine only: each HTTP
// request becomes one Registry call to the gateway on the agent's mutual-TLS channel, which
// decides what this node may read and push (operator/src/gateway/registry-access.ts). Docker
// trusts loopback registries over plain HTTP; nothing here is reachable from another machine.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { RegistryFrameSchema, bodyFrames } from '@lattice/protocol';
import { refusedNonLoopback } from '../loopback-host.js';

/** Opens one Registry call (GatewayClient.Registry on the agent's channel). */
export type OpenRegistryCall = () => grpc.ClientDuplexStream<unknown, unknown>;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'host']);

export class RegistryRelay {
  private readonly server: http.Server;

  constructor(
    private readonly open: OpenRegistryCall,
    private readonly log: Logger,
  ) {
    // The engine asks for 127.0.0.1:port; a web page rebinding a name to loopback would read the
    // images this node may read (tenants' builds among them).
    this.server = http.createServer((req, res) => {
      if (!refusedNonLoopback(req, res)) this.relay(req, res);
    });
  }

  /**
   * Listens on 127.0.0.1:`port`, or on a port the system picks when that one is taken (another
   * agent on this machine); resolves with host:port, the name the engine pulls through.
   */
  async listen(port: number): Promise<string> {
    const bind = (p: number) =>
      new Promise<void>((resolve, reject) => {
        const failed = (err: Error) => reject(err);
        this.server.once('error', failed);
        this.server.listen(p, '127.0.0.1', () => {
          this.server.off('error', failed);
          resolve();
        });
      });
    try {
      await bind(port);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
      this.log.warn({ port }, 'the registry relay port is taken; using another (images of the cluster registry are named by it here)');
      await bind(0);
    }
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private relay(req: http.IncomingMessage, res: http.ServerResponse): void {
    const call = this.open();
    let answered = false;
    const headers = Object.entries(req.headers).flatMap(([name, value]) =>
      value === undefined || HOP_BY_HOP.has(name) ? [] : (Array.isArray(value) ? value : [value]).map((v) => ({ name, value: v })),
    );
    call.write({ frame: 'request', request: { method: req.method, path: req.url, headers } });
    req.on('data', (chunk: Buffer) => {
      for (const frame of bodyFrames(chunk)) {
        if (!call.write(frame)) {
          req.pause();
          call.once('drain', () => req.resume());
        }
      }
    });
    req.on('end', () => call.end());

    call.on('data', (raw: unknown) => {
      const parsed = RegistryFrameSchema.safeParse(raw);
      if (!parsed.success) {
        this.log.warn({ issues: parsed.error.issues.slice(0, 3) }, 'refused an invalid registry frame from the gateway');
        call.cancel();
        return;
      }
      const frame = parsed.data;
      if (frame.frame === 'response' && !answered) {
        answered = true;
        const out: Record<string, string[]> = {};
        for (const h of frame.response.headers) if (!HOP_BY_HOP.has(h.name.toLowerCase())) (out[h.name.toLowerCase()] ??= []).push(h.value);
        res.writeHead(frame.response.status, out);
      } else if (frame.frame === 'body' && answered) {
        if (!res.write(frame.body)) {
          call.pause();
          res.once('drain', () => call.resume());
        }
      }
    });
    // A failed call's 'status' comes before its 'end'; a good call's body is all written by its 'end'.
    let failed = false;
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => {
      if (status.code === 0) return;
      failed = true;
      if (answered) {
        res.destroy(new Error(status.details));
        return;
      }
      // Docker shows a registry error's message: say why the gateway did not answer.
      const body = JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: `the gateway's registry relay failed: ${status.details}` }] });
      res.writeHead(502, { 'content-type': 'application/json' }).end(body);
    });
    call.on('end', () => {
      if (failed) return;
      if (answered) res.end();
      else res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'the gateway ended the request without an answer' }] }));
    });
    res.on('close', () => {
      if (!res.writableFinished) call.cancel();
    });
  }
}
