// Lattice objects (Workloads, PostgresInstances, CronWorkloads) in one namespace: a live stream
// (server-sent events relaying a Kubernetes watch), create by server-side apply, suspend,
// scale, run-now and delete. Every call is made with the user's own token; a refusal comes back as
// the apiserver worded it.
import { ObjectName } from '@lattice/crds';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { sessionOf, type ConsoleContext } from './context.js';
import { RequestError } from './errors.js';
import { kubeJson, kubeWatch, KubeError } from './kube.js';
import { collectionPath, itemPath, KINDS, manifest } from './kinds.js';
import { CollectionParams, DeleteResource, ItemParams, NamedParams, Scale, Suspend } from './inputs.js';

/** The field manager of every write the console makes, so `managedFields` shows who set what. */
export const FIELD_MANAGER = 'lattice-console';

/** On a CronWorkload: a new value asks the operator for one run now (see operator/src/cronworkload/runs.ts). */
const RUN_NOW_ANNOTATION = 'lattice.dev/run-now';

const List = z.object({ metadata: z.object({ resourceVersion: z.string() }), items: z.array(z.unknown()) });
const WatchEvent = z.object({ type: z.enum(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']), object: z.looseObject({}) });

/** Keeps an idle stream open through proxies that close silent connections. */
const HEARTBEAT_MS = 25_000;

function send(res: Response, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/** Opens a server-sent event stream that stops when the browser goes; `run` writes to it. */
async function eventStream(res: Response, run: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const abort = new AbortController();
  res.req.on('close', () => abort.abort());
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  try {
    await run(abort.signal);
  } catch (err) {
    if (!abort.signal.aborted) {
      const status = err instanceof KubeError ? err.status : 502;
      send(res, 'problem', { status, error: err instanceof KubeError ? `Kubernetes refused: ${err.message}` : 'The live view lost the Kubernetes API; reload to retry.' });
    }
  } finally {
    clearInterval(heartbeat);
    res.end();
  }
}

export function latticeRoutes(ctx: ConsoleContext): Router {
  const router = Router();
  const write = (res: Response, method: 'PATCH' | 'DELETE', path: string, body?: unknown, contentType?: string) =>
    kubeJson(ctx.kube, sessionOf(res).token, { method, path, body, contentType });
  const mergePatch = (res: Response, path: string, body: unknown) =>
    write(res, 'PATCH', `${path}?fieldManager=${FIELD_MANAGER}`, body, 'application/merge-patch+json');

  // The stream: a `snapshot` (the full list), then `change` events from the watch. When the
  // apiserver ends the watch (its timeout, or a 410 Gone), it is resumed from a fresh list; a
  // refusal is sent as a `problem` event and ends the stream, so the browser does not retry it.
  router.get('/namespaces/:namespace/:plural/stream', async (req, res) => {
    const { namespace, plural } = CollectionParams.parse(req.params);
    const { token } = sessionOf(res);
    const collection = collectionPath(plural, namespace);
    await eventStream(res, async (signal) => {
      while (!signal.aborted) {
        const list = List.parse(await kubeJson(ctx.kube, token, { path: collection }));
        send(res, 'snapshot', list.items);
        const watchPath = `${collection}?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(list.metadata.resourceVersion)}`;
        await kubeWatch(
          ctx.kube,
          token,
          watchPath,
          (raw) => {
            const event = WatchEvent.parse(raw);
            // ERROR (e.g. 410 Gone) is followed by the end of the watch, and so by a fresh list.
            if (event.type !== 'ERROR' && event.type !== 'BOOKMARK') send(res, 'change', event);
          },
          signal,
        );
      }
    });
  });

  router.post('/namespaces/:namespace/:plural', async (req, res) => {
    const { namespace, plural } = CollectionParams.parse(req.params);
    const { name } = z.strictObject({ name: ObjectName, spec: KINDS[plural].spec }).parse(req.body);
    // Apply the spec as the user gave it (now known valid), not zod's output with every default
    // filled in: the CRD's defaults then apply, and the console owns only the fields the user set.
    const { spec } = req.body as { spec: unknown };
    const created = await write(res, 'PATCH', `${itemPath(plural, namespace, name)}?fieldManager=${FIELD_MANAGER}`, manifest(plural, namespace, name, spec), 'application/apply-patch+yaml');
    res.status(201).json(created);
  });

  router.patch('/namespaces/:namespace/:plural/:name/suspend', async (req, res) => {
    const { namespace, plural, name } = ItemParams.parse(req.params);
    if (!KINDS[plural].suspends) throw new RequestError(400, `A ${KINDS[plural].kind} cannot be stopped.`);
    const { suspend } = Suspend.parse(req.body);
    res.json(await mergePatch(res, itemPath(plural, namespace, name), { spec: { suspend } }));
  });

  router.patch('/namespaces/:namespace/workloads/:name/scale', async (req, res) => {
    const { namespace, name } = NamedParams.parse(req.params);
    const { replicas } = Scale.parse(req.body);
    res.json(await mergePatch(res, itemPath('workloads', namespace, name), { spec: { replicas } }));
  });

  router.post('/namespaces/:namespace/cronworkloads/:name/run-now', async (req, res) => {
    const { namespace, name } = NamedParams.parse(req.params);
    const patched = await mergePatch(res, itemPath('cronworkloads', namespace, name), {
      metadata: { annotations: { [RUN_NOW_ANNOTATION]: new Date().toISOString() } },
    });
    res.status(202).json(patched);
  });

  router.delete('/namespaces/:namespace/:plural/:name', async (req, res) => {
    const { namespace, plural, name } = ItemParams.parse(req.params);
    const { confirm } = DeleteResource.parse(req.body);
    if (confirm !== name) throw new RequestError(400, `To delete, confirm with the ${KINDS[plural].kind}'s name, ${name}.`);
    await write(res, 'DELETE', itemPath(plural, namespace, name));
    res.status(204).end();
  });

  return router;
}
