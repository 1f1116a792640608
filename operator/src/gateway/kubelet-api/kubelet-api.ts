// The gateway's kubelet API: the HTTPS endpoint every Lattice Node advertises
// (status.daemonEndpoints.kubeletEndpoint), where the kube-apiserver sends `kubectl logs` and
// `kubectl exec` for pods on provider machines. It authenticates and authorizes like a kubelet,
// then relays over the node's agent stream.
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { pino, type Logger } from 'pino';
import { HttpError, admit, type AdmissionDeps } from './admission.js';
import { authenticate, type UserInfo } from './auth.js';
import { serveExec, spdyHandshake } from './exec.js';
import { serveLogs } from './logs.js';
import { portForwardHandshake, servePortForward } from './port-forward.js';
import { QueryError, parseExecQuery, parseLogQuery } from './query.js';
import { matchRoute, type Route } from './routes.js';
import { endThenDestroy } from './socket-close.js';
import { failureStatus } from './status.js';

export interface KubeletApiTls {
  certificatePem: string;
  privateKeyPem: string;
  /** Client certificates are verified against this bundle (the cluster's client CA). */
  clientCaPem: string;
}

export interface KubeletApiOptions extends AdmissionDeps {
  tls: KubeletApiTls;
  logger?: Logger;
  streamCreationTimeoutMs?: number;
}

const NOT_IMPLEMENTED: Record<string, string> = {
  attach: 'attach is not supported on Lattice nodes: containers run without a terminal to attach to; use kubectl exec',
};

/** The kubelet API server, not yet listening. Renew its certificate with setSecureContext. */
export function createKubeletApi(options: KubeletApiOptions): https.Server {
  const logger = options.logger ?? pino({ level: 'silent' });
  const server = https.createServer({
    cert: options.tls.certificatePem,
    key: options.tls.privateKeyPem,
    ca: options.tls.clientCaPem,
    // Ask for a client certificate but let the handshake through without one, so that an
    // anonymous client gets a 401 it can read rather than a TLS alert.
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handleRequest(req, res).catch((err: unknown) => {
      const known = err instanceof HttpError;
      if (!known) logger.error({ err, path: req.url }, 'kubelet API request failed');
      if (res.headersSent) res.destroy();
      else respondText(res, known ? err.code : 500, err instanceof Error ? err.message : String(err));
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    handleUpgrade(req, socket as TLSSocket, head).catch((err: unknown) => {
      const known = err instanceof HttpError;
      if (!known) logger.error({ err, path: req.url }, 'kubelet API upgrade failed');
      refuseUpgrade(socket, known ? err.code : 500, err instanceof Error ? err.message : String(err));
    });
  });

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const route = matchRoute(url.pathname);
    if (route?.kind === 'healthz') {
      respondText(res, 200, 'ok');
      return;
    }
    const user = requireUser(req);
    if (route?.kind === 'containerLogs') {
      if (req.method !== 'GET') throw new HttpError(405, `${req.method} is not allowed on ${url.pathname}`);
      const { pod, mux } = await admit(options, podRequest(req, user, route));
      const query = parseQuery(() => parseLogQuery(url.searchParams));
      await serveLogs(res, { mux, podUid: pod.uid, container: route.container }, query);
      return;
    }
    if (route) {
      // exec, attach and portForward are streaming upgrades; a plain request gets a Status.
      const message = NOT_IMPLEMENTED[route.kind] ?? `${url.pathname} requires a connection upgrade to SPDY/3.1`;
      respondStatus(res, route.kind in NOT_IMPLEMENTED ? 501 : 400, message);
      return;
    }
    respondText(res, 404, '404 page not found');
  }

  async function handleUpgrade(req: IncomingMessage, socket: TLSSocket, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const route = matchRoute(url.pathname);
    const user = requireUser(req);
    if (!route || route.kind === 'healthz' || route.kind === 'containerLogs') throw new HttpError(404, `${url.pathname} cannot be upgraded`);
    if (route.kind === 'portForward') {
      const pod = `${route.namespace}/${route.pod}`;
      const admitted = await admit(options, { user, method: req.method ?? 'GET', namespace: route.namespace, pod: route.pod });
      socket.write(portForwardHandshake(req));
      if (head.length) socket.unshift(head);
      const log = logger.child({ pod, user: user.name });
      log.info('port-forward session');
      await servePortForward(socket, { mux: admitted.mux, podUid: admitted.pod.uid, pod }, log).catch((err) => {
        log.error({ err }, 'port-forward session failed');
        socket.destroy();
      });
      return;
    }
    if (route.kind !== 'exec') throw new HttpError(501, NOT_IMPLEMENTED[route.kind]!);
    const { pod, mux } = await admit(options, podRequest(req, user, route));
    const query = parseQuery(() => parseExecQuery(url.searchParams));
    socket.write(spdyHandshake(req));
    if (head.length) socket.unshift(head);
    const log = logger.child({ pod: `${route.namespace}/${route.pod}`, container: route.container, user: user.name });
    // Not the command: its arguments may carry secrets.
    log.info({ tty: query.options.tty, stdin: query.options.stdin }, 'exec session');
    try {
      await serveExec(socket, { mux, podUid: pod.uid, container: route.container }, query, {
        logger: log,
        ...(options.streamCreationTimeoutMs !== undefined ? { streamCreationTimeoutMs: options.streamCreationTimeoutMs } : {}),
      });
    } catch (err) {
      // Past the 101 there is no HTTP answer to give: drop the connection.
      log.error({ err }, 'exec session failed');
      socket.destroy();
    }
  }

  return server;
}

/** The caller named by its verified client certificate; every path but /healthz needs one. */
function requireUser(req: IncomingMessage): UserInfo {
  const user = authenticate(req.socket as TLSSocket);
  if (!user) throw new HttpError(401, 'Unauthorized: a client certificate signed by the cluster client CA is required');
  return user;
}

function podRequest(req: IncomingMessage, user: UserInfo, route: Extract<Route, { kind: 'containerLogs' | 'exec' | 'attach' }>) {
  return {
    user,
    method: req.method ?? 'GET',
    namespace: route.namespace,
    pod: route.pod,
    container: route.container,
    ...(route.kind !== 'containerLogs' && route.uid !== undefined ? { uid: route.uid } : {}),
  };
}

function parseQuery<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof QueryError) throw new HttpError(400, err.message);
    throw err;
  }
}

/** The kubelet answers log requests in plain text; the apiserver quotes it to the client. */
function respondText(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8' }).end(message);
}

function respondStatus(res: ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(failureStatus(code, message)));
}

/** Refuses an upgrade with a metav1.Status, which the apiserver's SPDY client decodes. */
function refuseUpgrade(socket: Duplex, code: number, message: string): void {
  if (!socket.writable) return;
  const body = JSON.stringify(failureStatus(code, message));
  endThenDestroy(
    socket,
    [
      `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ''}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}
