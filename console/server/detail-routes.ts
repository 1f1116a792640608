// What a details page shows beside the object itself, each read with the user's own token: its
// Events, its pods (for the log viewer), a CronWorkload's Jobs, and a PostgresInstance's
// connection Secret. The answers are cut down to what the page shows.
import { Router } from 'express';
import { z } from 'zod';
import { sessionOf, type ConsoleContext } from './context.js';
import { kubeJson } from './kube.js';
import { KINDS } from './kinds.js';
import { ItemParams, NamedParams } from './inputs.js';

const Event = z.object({
  type: z.string().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  count: z.number().optional(),
  firstTimestamp: z.string().nullish(),
  lastTimestamp: z.string().nullish(),
  eventTime: z.string().nullish(),
  metadata: z.object({ creationTimestamp: z.string().optional() }),
  source: z.object({ component: z.string().optional() }).optional(),
  reportingComponent: z.string().optional(),
});

const Pod = z.object({
  metadata: z.object({ name: z.string(), creationTimestamp: z.string().optional(), deletionTimestamp: z.string().optional() }),
  spec: z.object({ nodeName: z.string().optional(), containers: z.array(z.object({ name: z.string() })) }),
  status: z
    .object({
      phase: z.string().optional(),
      podIP: z.string().optional(),
      containerStatuses: z.array(z.object({ name: z.string(), restartCount: z.number(), ready: z.boolean() })).optional(),
    })
    .optional(),
});

const Job = z.object({
  metadata: z.object({ name: z.string(), creationTimestamp: z.string().optional() }),
  status: z
    .object({
      startTime: z.string().optional(),
      completionTime: z.string().optional(),
      succeeded: z.number().optional(),
      failed: z.number().optional(),
      active: z.number().optional(),
      conditions: z.array(z.object({ type: z.string(), status: z.string(), message: z.string().optional() })).optional(),
    })
    .optional(),
});

const ConnectionSecret = z.object({ data: z.record(z.string(), z.string()).default({}) });

/** The keys of a PostgresInstance's connection Secret the page offers (see the CRD's status.connectionSecret). */
const CONNECTION_KEYS = ['uri', 'jdbc-uri', 'host', 'port', 'username', 'password', 'dbname'] as const;

const list = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

export function detailRoutes(ctx: ConsoleContext): Router {
  const router = Router();
  const get = (token: string, path: string) => kubeJson(ctx.kube, token, { path });

  router.get('/namespaces/:namespace/:plural/:name/events', async (req, res) => {
    const { namespace, plural, name } = ItemParams.parse(req.params);
    const selector = `involvedObject.kind=${KINDS[plural].kind},involvedObject.name=${name}`;
    const events = list(Event).parse(
      await get(sessionOf(res).token, `/api/v1/namespaces/${namespace}/events?fieldSelector=${encodeURIComponent(selector)}`),
    );
    const at = (e: z.infer<typeof Event>) => e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? '';
    res.json(
      events.items
        .map((e) => ({ type: e.type ?? 'Normal', reason: e.reason ?? '', message: e.message ?? '', count: e.count ?? 1, time: at(e), source: e.reportingComponent || e.source?.component || '' }))
        .sort((a, b) => b.time.localeCompare(a.time)),
    );
  });

  router.get('/namespaces/:namespace/:plural/:name/pods', async (req, res) => {
    const { namespace, plural, name } = ItemParams.parse(req.params);
    const selector = `${KINDS[plural].podLabel}=${name}`;
    const pods = list(Pod).parse(await get(sessionOf(res).token, `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`));
    res.json(
      pods.items
        .map((p) => ({
          name: p.metadata.name,
          created: p.metadata.creationTimestamp ?? '',
          node: p.spec.nodeName,
          phase: p.metadata.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Pending'),
          containers: p.spec.containers.map((c) => c.name),
          restarts: (p.status?.containerStatuses ?? []).reduce((sum, c) => sum + c.restartCount, 0),
        }))
        .sort((a, b) => b.created.localeCompare(a.created)),
    );
  });

  router.get('/namespaces/:namespace/cronworkloads/:name/jobs', async (req, res) => {
    const { namespace, name } = NamedParams.parse(req.params);
    const selector = `${KINDS.cronworkloads.podLabel}=${name}`;
    const jobs = list(Job).parse(await get(sessionOf(res).token, `/apis/batch/v1/namespaces/${namespace}/jobs?labelSelector=${encodeURIComponent(selector)}`));
    res.json(
      jobs.items.map((j) => {
        const done = j.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
        return {
          name: j.metadata.name,
          startTime: j.status?.startTime ?? j.metadata.creationTimestamp,
          completionTime: j.status?.completionTime,
          result: done?.type === 'Complete' ? 'Succeeded' : done?.type === 'Failed' ? 'Failed' : 'Running',
          message: done?.type === 'Failed' ? done.message : undefined,
        };
      }),
    );
  });

  // Only on request (the page asks when the user reveals or copies): the apiserver logs each read
  // of a Secret, and its RBAC decides whether this user may read it at all.
  router.get('/namespaces/:namespace/postgresinstances/:name/connection', async (req, res) => {
    const { namespace, name } = NamedParams.parse(req.params);
    const secret = ConnectionSecret.parse(await get(sessionOf(res).token, `/api/v1/namespaces/${namespace}/secrets/${name}-connection`));
    const decoded: Record<string, string> = {};
    for (const key of CONNECTION_KEYS) {
      const value = secret.data[key];
      if (value !== undefined) decoded[key] = Buffer.from(value, 'base64').toString('utf8');
    }
    res.json(decoded);
  });

  return router;
}
