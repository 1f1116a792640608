// A pod's log, streamed: the apiserver's pod log API (what `kubectl logs -f` reads) with the
// user's token, relayed to the browser as plain text in chunks as they come. The apiserver's
// refusal (no RBAC for pods/log, no such container, no previous instance) is answered as JSON
// before any text, so the viewer can show it.
import { Router } from 'express';
import { sessionOf, type ConsoleContext } from './context.js';
import { kubeStream } from './kube.js';
import { LogQuery, PodParams } from './inputs.js';

export function logRoutes(ctx: ConsoleContext): Router {
  const router = Router();
  router.get('/namespaces/:namespace/pods/:pod/log', async (req, res) => {
    const { namespace, pod } = PodParams.parse(req.params);
    const query = LogQuery.parse(req.query);
    const params = new URLSearchParams({ follow: query.follow, previous: query.previous, tailLines: String(query.tailLines) });
    if (query.container) params.set('container', query.container);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${params}`;
    const upstream = await kubeStream(ctx.kube, sessionOf(res).token, path, abort.signal).catch((err: unknown) => {
      // The viewer moved on (another pod or container) before the apiserver answered: not an error.
      if (abort.signal.aborted) return undefined;
      throw err;
    });
    if (!upstream) return;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    // Each chunk is flushed as it arrives; the compression a proxy might add would hold them back.
    upstream.on('data', (chunk: Buffer) => res.write(chunk));
    upstream.on('end', () => res.end());
    upstream.on('error', () => res.end());
  });
  return router;
}
