// Sign-in, who-am-I and sign-out. A token is accepted only if the apiserver itself recognises it:
// a SelfSubjectReview made with that token, so the console needs no credential of its own.
import { Router } from 'express';
import { z } from 'zod';
import { clearSessionCookie, cookieName, readCookie, secureCookiesFor, setSessionCookie } from './cookies.js';
import { sessionOf, type ConsoleContext } from './context.js';
import { RequestError } from './errors.js';
import { kubeJson, KubeError } from './kube.js';
import { SignIn } from './inputs.js';

const SelfSubjectReview = z.object({
  status: z.object({ userInfo: z.object({ username: z.string() }) }),
});

export function sessionRoutes(ctx: ConsoleContext): Router {
  const router = Router();

  router.post('/session', async (req, res) => {
    const { token } = SignIn.parse(req.body);
    let review: unknown;
    try {
      review = await kubeJson(ctx.kube, token, {
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
    } catch (err) {
      if (err instanceof KubeError && err.status === 401) {
        throw new RequestError(401, 'Kubernetes did not accept this token: check that it is complete and has not expired.');
      }
      throw err;
    }
    const { username } = SelfSubjectReview.parse(review).status.userInfo;
    const secure = secureCookiesFor(ctx.secureCookies, req);
    // A fresh id at every sign-in, so an id planted before sign-in is worth nothing after it.
    ctx.sessions.delete(readCookie(req, cookieName(secure)));
    setSessionCookie(res, secure, ctx.sessions.create(token, username));
    res.status(201).json({ username });
  });

  router.get('/session', (_req, res) => {
    res.json({ username: sessionOf(res).username });
  });

  router.delete('/session', (req, res) => {
    const secure = secureCookiesFor(ctx.secureCookies, req);
    ctx.sessions.delete(readCookie(req, cookieName(secure)));
    clearSessionCookie(res, secure);
    res.status(204).end();
  });

  return router;
}
