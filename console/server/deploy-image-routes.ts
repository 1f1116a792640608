// The images the deploy form starts from, as whoever runs the console configured them. Not secret,
// but served to signed-in users only: they are the ones who deploy, and an anonymous visitor has
// no need to learn the platform's registry.
import { Router } from 'express';
import { sessionOf, type ConsoleContext } from './context.js';

export function deployImageRoutes(ctx: ConsoleContext): Router {
  const router = Router();
  router.get('/deploy-images', (_req, res) => {
    sessionOf(res);
    res.json(ctx.deployImages);
  });
  return router;
}
