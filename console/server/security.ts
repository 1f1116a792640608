// Browser-facing protections: the headers every response carries, and the check that a write
// comes from the console's own pages.
import type { NextFunction, Request, Response } from 'express';
import { secureCookiesFor } from './cookies.js';

/** The SPA is only same-origin scripts, styles and fetches: nothing inline, nothing framed. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  next();
}

/** The header the SPA sends with every API call. */
export const REQUESTED_WITH = 'lattice-console';

/**
 * CSRF defence for writes, in two layers. The session cookie is SameSite=Strict, so a request that
 * another site starts does not carry it. And a write must carry `X-Requested-With: lattice-console`:
 * a custom header, which a cross-origin page can only send after a CORS preflight that this server
 * never approves (it sends no Access-Control-Allow-* headers), so forms and simple fetches from
 * elsewhere cannot forge one. An Origin header, when the browser sends one, must be our own. With
 * Secure cookies the console works only over https, so that is its scheme even when a proxy ends
 * TLS and speaks plain http to it (an Ingress in front of the in-cluster console).
 */
export function requireSameOrigin(secureCookies: boolean) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const origin = req.get('origin');
    const ownOrigin = `${secureCookiesFor(secureCookies, req) ? 'https' : req.protocol}://${req.get('host')}`;
    if (req.get('x-requested-with') !== REQUESTED_WITH || (origin !== undefined && origin !== ownOrigin)) {
      res.status(403).json({ error: 'This request did not come from the Lattice console; reload the page and try again.' });
      return;
    }
    next();
  };
}
