// The session cookie: httpOnly (no script reads it), SameSite=Strict (no other site sends it), and
// Secure with the __Host- prefix everywhere except plain-http loopback, where browsers would drop it.
import type { Request, Response } from 'express';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Whether this request's session cookie is Secure: as configured, except for a browser on the
 * user's own machine that reaches the in-cluster console through `kubectl port-forward` (plain http
 * from the pod's loopback, to a loopback name). Browsers drop Secure cookies there, and the hops
 * that leave that machine (kubectl to the apiserver to the kubelet) are TLS. An Ingress or a sidecar
 * in front sends the site's own name, so its requests keep Secure.
 */
export function secureCookiesFor(configured: boolean, req: Request): boolean {
  if (!configured) return false;
  const peer = req.socket.remoteAddress ?? '';
  const fromLoopback = peer === '::1' || peer.startsWith('127.') || peer.startsWith('::ffff:127.');
  return !(fromLoopback && !req.secure && LOOPBACK_NAMES.has(req.hostname));
}

export function cookieName(secure: boolean): string {
  return secure ? '__Host-lattice-session' : 'lattice-session';
}

export function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function setSessionCookie(res: Response, secure: boolean, id: string): void {
  res.cookie(cookieName(secure), id, { httpOnly: true, secure, sameSite: 'strict', path: '/' });
}

export function clearSessionCookie(res: Response, secure: boolean): void {
  res.clearCookie(cookieName(secure), { httpOnly: true, secure, sameSite: 'strict', path: '/' });
}
