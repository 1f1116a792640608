// The session cookie: httpOnly (no script reads it), SameSite=Strict (no other site sends it), and
// Secure with the __Host- prefix everywhere except plain-http loopback, where browsers would drop it.
import type { Request, Response } from 'express';

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
