// The namespaces the user may list. Many users may not list namespaces at all (RBAC on a single
// namespace); they get `canList: false` and the SPA asks them to type theirs.
import { Router } from 'express';
import { z } from 'zod';
import { sessionOf, type ConsoleContext } from './context.js';
import { kubeJson, KubeError } from './kube.js';

const NamespaceList = z.object({ items: z.array(z.object({ metadata: z.object({ name: z.string() }) })) });

export function namespaceRoutes(ctx: ConsoleContext): Router {
  const router = Router();
  router.get('/namespaces', async (_req, res) => {
    try {
      const list = NamespaceList.parse(await kubeJson(ctx.kube, sessionOf(res).token, { path: '/api/v1/namespaces' }));
      res.json({ canList: true, namespaces: list.items.map((n) => n.metadata.name).sort() });
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 403)) throw err;
      res.json({ canList: false, namespaces: [] });
    }
  });
  return router;
}
