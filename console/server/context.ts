// What every API route needs: the apiserver, the sessions, whether cookies are Secure, and the
// deploy form's default images.
import type { Response } from 'express';
import type { DeployImages } from '../src/deploy-images.js';
import { RequestError } from './errors.js';
import type { KubeTarget } from './kube.js';
import type { Session, SessionStore } from './sessions.js';

export interface ConsoleContext {
  kube: KubeTarget;
  sessions: SessionStore;
  secureCookies: boolean;
  deployImages: DeployImages;
}

/** The signed-in user's session, put on res.locals by the session middleware. */
export function sessionOf(res: Response): Session {
  const session = res.locals.session as Session | undefined;
  if (!session) throw new RequestError(401, 'Not signed in: sign in with a Kubernetes token.');
  return session;
}
