// The agent's loopback servers (admin API, registry relay) answer only requests addressed to
// loopback. A web page the provider opens can make the browser send requests to 127.0.0.1 under a
// name of its own (DNS rebinding) and read the answers; the Host header it sends is that name.
import type http from 'node:http';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True when the Host header names loopback (with or without a port), as a local client's does. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.toLowerCase().replace(/:\d{1,5}$/, '');
  return LOOPBACK_NAMES.has(name);
}

/** Answers 421 to a request that is not addressed to loopback; true when it did. */
export function refusedNonLoopback(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (isLoopbackHost(req.headers.host)) return false;
  res.writeHead(421, { 'content-type': 'text/plain' });
  res.end('this server answers only requests to 127.0.0.1 or localhost\n');
  return true;
}
