// The console's HTTP server: the JSON API under /api (the user's token forwarded to the apiserver)
// and the built SPA for every other path.
import path from 'node:path';
import express from 'express';
import { cookieName, readCookie, secureCookiesFor } from './cookies.js';
import type { ConsoleContext } from './context.js';
import { errorHandler, RequestError } from './errors.js';
import { deployImageRoutes } from './deploy-image-routes.js';
import { detailRoutes } from './detail-routes.js';
import { latticeRoutes } from './lattice-routes.js';
import { logRoutes } from './log-routes.js';
import { namespaceRoutes } from './namespace-routes.js';
import { nodeRoutes } from './node-routes.js';
import { requireSameOrigin, securityHeaders } from './security.js';
import { sessionRoutes } from './session-routes.js';

export function createApp(ctx: ConsoleContext, distDir: string): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);

  const api = express.Router();
  api.use(requireSameOrigin(ctx.secureCookies));
  api.use(express.json({ limit: '256kb' }));
  api.use((req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    res.locals.session = ctx.sessions.get(readCookie(req, cookieName(secureCookiesFor(ctx.secureCookies, req))));
    next();
  });
  api.use(sessionRoutes(ctx));
  api.use(deployImageRoutes(ctx));
  api.use(namespaceRoutes(ctx));
  api.use(nodeRoutes(ctx));
  api.use(logRoutes(ctx));
  api.use(detailRoutes(ctx));
  api.use(latticeRoutes(ctx));
  api.use(() => {
    throw new RequestError(404, 'No such API route.');
  });
  api.use(errorHandler);
  app.use('/api', api);

  app.use(express.static(distDir, { index: false }));
  // Client-side routes (/, /deploy, /sign-in, /resources/…, /providers) all load the same page.
  app.get('/{*path}', (_req, res) => res.sendFile(path.join(distDir, 'index.html')));
  return app;
}
