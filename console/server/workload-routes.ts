// Workloads in one namespace: a live stream (server-sent events relaying a Kubernetes watch),
// create by server-side apply, suspend/resume by merge patch, and delete. Every call is made with
// the user's own token; a refusal comes back as the apiserver worded it.
import { API_VERSION, GROUP, VERSION } from '@lattice/crds';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { sessionOf, type ConsoleContext } from './context.js';
import { RequestError } from './errors.js';
import { kubeJson, kubeWatch, KubeError } from './kube.js';
import { CreateWorkload, DeleteWorkload, NamespaceParams, Suspend, WorkloadParams } from './inputs.js';

/** The field manager of every write the console makes, so `managedFields` shows who set what. */
export const FIELD_MANAGER = 'lattice-console';

const collection = (namespace: string) => `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(namespace)}/workloads`;
const item = (namespace: string, name: string) => `${collection(namespace)}/${encodeURIComponent(name)}`;

const WorkloadList = z.object({ metadata: z.object({ resourceVersion: z.string() }), items: z.array(z.unknown()) });
const WatchEvent = z.object({ type: z.enum(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']), object: z.looseObject({}) });

/** Keeps an idle stream open through proxies that close silent connections. */
const HEARTBEAT_MS = 25_000;

function send(res: Response, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export function workloadRoutes(ctx: ConsoleContext): Router {
  const router = Router();

  // The stream: a `snapshot` (the full list), then `change` events from the watch. When the
  // apiserver ends the watch (its timeout, or a 410 Gone), it is resumed from a fresh list; a
  // refusal is sent as a `problem` event and ends the stream, so the browser does not retry it.
  router.get('/namespaces/:namespace/workloads/stream', async (req, res) => {
    const { namespace } = NamespaceParams.parse(req.params);
    const { token } = sessionOf(res);
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
    try {
      while (!abort.signal.aborted) {
        const list = WorkloadList.parse(await kubeJson(ctx.kube, token, { path: collection(namespace) }));
        send(res, 'snapshot', list.items);
        const watchPath = `${collection(namespace)}?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(list.metadata.resourceVersion)}`;
        await kubeWatch(
          ctx.kube,
          token,
          watchPath,
          (raw) => {
            const event = WatchEvent.parse(raw);
            // ERROR (e.g. 410 Gone) is followed by the end of the watch, and so by a fresh list.
            if (event.type !== 'ERROR' && event.type !== 'BOOKMARK') send(res, 'change', event);
          },
          abort.signal,
        );
      }
    } catch (err) {
      if (!abort.signal.aborted) {
        const status = err instanceof KubeError ? err.status : 502;
        const message = err instanceof KubeError ? `Kubernetes refused: ${err.message}` : 'The live view lost the Kubernetes API; reload to retry.';
        send(res, 'problem', { status, error: message });
      }
    } finally {
      clearInterval(heartbeat);
      res.end();
    }
  });

  router.post('/namespaces/:namespace/workloads', async (req, res) => {
    const { namespace } = NamespaceParams.parse(req.params);
    const { name } = CreateWorkload.parse(req.body);
    // Apply the spec as the user gave it (now known valid), not zod's output with every default
    // filled in: the CRD's defaults then apply, and the console owns only the fields the user set.
    const { spec } = req.body as { spec: unknown };
    const manifest = { apiVersion: API_VERSION, kind: 'Workload', metadata: { name, namespace }, spec };
    const created = await kubeJson(ctx.kube, sessionOf(res).token, {
      method: 'PATCH',
      path: `${item(namespace, name)}?fieldManager=${FIELD_MANAGER}`,
      contentType: 'application/apply-patch+yaml',
      body: manifest,
    });
    res.status(201).json(created);
  });

  router.patch('/namespaces/:namespace/workloads/:name/suspend', async (req, res) => {
    const { namespace, name } = WorkloadParams.parse(req.params);
    const { suspend } = Suspend.parse(req.body);
    const patched = await kubeJson(ctx.kube, sessionOf(res).token, {
      method: 'PATCH',
      path: `${item(namespace, name)}?fieldManager=${FIELD_MANAGER}`,
      contentType: 'application/merge-patch+json',
      body: { spec: { suspend } },
    });
    res.json(patched);
  });

  router.delete('/namespaces/:namespace/workloads/:name', async (req, res) => {
    const { namespace, name } = WorkloadParams.parse(req.params);
    const { confirm } = DeleteWorkload.parse(req.body);
    if (confirm !== name) throw new RequestError(400, `To delete, confirm with the Workload's name, ${name}.`);
    await kubeJson(ctx.kube, sessionOf(res).token, { method: 'DELETE', path: item(namespace, name) });
    res.status(204).end();
  });

  return router;
}
