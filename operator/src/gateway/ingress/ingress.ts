// The gateway's public ingress: one HTTPS server (HTTP/2 and HTTP/1.1 on the same port) for the
// public URLs of Workloads, and one TCP listener per public TCP port, all relayed to replicas
// through the tunnels their providers' agents hold open (no inbound port on any provider).
import { readFile } from 'node:fs/promises';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type * as k8s from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { issueServingCertificate, type CertificateAuthority } from '../pki.js';
import { ClientLimits, DEFAULT_CAPS, DEFAULT_REQUEST_RATE, RequestRates, type ConnectionCaps, type RequestRate } from './client-limits.js';
import { Rerun } from '../../kube/rerun.js';
import { HttpRelay } from './http-proxy.js';
import { ingressMetrics } from './metrics.js';
import { Routes, type RouteSource } from './routes.js';
import { TcpPortAllocator, type PortRange } from './tcp-ports.js';
import { TcpRelay } from './tcp-relay.js';
import type { TunnelSocket } from './tunnel.js';

export interface IngressConfig {
  /** Where the HTTPS server and the TCP listeners listen. */
  address: string;
  /** The HTTPS port; 0 picks a free one (tests). */
  port: number;
  baseDomain: string;
  tcpPorts: PortRange;
  /** PEM files of the serving certificate; without them one for *.<base domain> is issued by the gateway CA. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Serve the Services of this namespace only (the operator's --watch-namespace). */
  namespace?: string;
  /** Open connections allowed per client address and in all (client-limits.ts). */
  caps?: ConnectionCaps;
  /** HTTP requests allowed per client address (client-limits.ts). */
  requestRate?: RequestRate;
}

export interface IngressDeps extends RouteSource {
  dial(pod: k8s.V1Pod, port: number): TunnelSocket;
  ca: CertificateAuthority;
}

export class Ingress {
  private readonly routes: Routes;
  private readonly http: HttpRelay;
  private readonly tcp: TcpRelay;
  private readonly allocator: TcpPortAllocator;
  private readonly limits: ClientLimits;
  private readonly rates: RequestRates;
  private server?: http2.Http2SecureServer;
  /** Gateway ports for new public TCP ports: one pass at a time, again if asked meanwhile. */
  private readonly allocation = new Rerun(() =>
    this.allocator.reconcile(this.routes.services.list()).catch((err) => {
      this.log.warn({ err }, 'allocating public TCP ports failed; retrying');
      setTimeout(() => this.server?.listening && this.allocate(), 5_000).unref();
    }),
  );

  constructor(
    kc: k8s.KubeConfig,
    private readonly config: IngressConfig,
    private readonly deps: IngressDeps,
    private readonly log: Logger,
    registry: Registry,
  ) {
    const metrics = ingressMetrics(registry);
    this.limits = new ClientLimits(config.caps ?? DEFAULT_CAPS, (reason) => metrics.refused.inc({ reason }));
    const dial = (pod: k8s.V1Pod, port: number) => deps.dial(pod, port);
    this.routes = new Routes(kc, config.namespace, deps, log);
    this.rates = new RequestRates(config.requestRate ?? DEFAULT_REQUEST_RATE);
    this.http = new HttpRelay({ routes: this.routes, dial, admit: (address) => this.rates.admit(address), baseDomain: config.baseDomain, metrics, log });
    this.tcp = new TcpRelay(config.address, this.routes, dial, this.limits, metrics, log);
    this.allocator = new TcpPortAllocator(kc, config.tcpPorts, log);
    const changed = () => {
      this.tcp.sync();
      this.allocate();
    };
    for (const event of ['add', 'update', 'delete'] as const) this.routes.services.on(event, changed);
  }

  /** The HTTPS port it listens on. */
  get port(): number {
    return (this.server!.address() as AddressInfo).port;
  }

  async start(): Promise<void> {
    const { cert, key } = await this.certificate();
    const server = http2.createSecureServer({ cert, key, allowHTTP1: true });
    // Each TCP connection, before TLS: over a cap it is closed before costing a handshake.
    server.on('connection', (socket: Socket) => this.limits.admit(socket));
    server.on('request', (req, res) => this.http.handle(req, res));
    // Emitted for HTTP/1.1 Upgrade requests (the HTTP/1 fallback of allowHTTP1).
    server.on('upgrade', (req, socket, head) => this.http.upgrade(req, socket, head));
    server.on('sessionError', () => undefined);
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await this.routes.services.start();
    this.tcp.sync();
    this.allocate();
    this.log.info({ address: this.config.address, port: this.port, baseDomain: this.config.baseDomain, tcpPorts: this.config.tcpPorts }, 'ingress listening');
  }

  async stop(): Promise<void> {
    await this.routes.services.stop();
    this.tcp.close();
    this.http.close();
    this.rates.close();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await this.allocation.settled();
  }

  private async certificate(): Promise<{ cert: string; key: string }> {
    const { tlsCertFile, tlsKeyFile, baseDomain } = this.config;
    if (tlsCertFile && tlsKeyFile) return { cert: await readFile(tlsCertFile, 'utf8'), key: await readFile(tlsKeyFile, 'utf8') };
    const issued = await issueServingCertificate(this.deps.ca, [`*.${baseDomain}`, baseDomain]);
    return { cert: issued.certificatePem, key: issued.privateKeyPem };
  }

  private allocate(): void {
    void this.allocation.request();
  }

}
