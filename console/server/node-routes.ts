// The providers page: every Lattice provider node (label lattice.dev/provider), what it offers
// (allocatable), what the pods bound to it ask for (the sum of their requests), its availability
// and whether it is Ready, all read with the user's own token. Listing nodes is a cluster-wide
// right that many users lack: they get the apiserver's refusal. Summing requests needs the pods of
// every namespace; without that right the page shows the offers alone and says why.
import { parseQuantity } from '@lattice/crds';
import { Router } from 'express';
import { z } from 'zod';
import { sessionOf, type ConsoleContext } from './context.js';
import { kubeJson, KubeError } from './kube.js';

const PROVIDER_LABEL = 'lattice.dev/provider';

const Node = z.object({
  metadata: z.object({ name: z.string(), labels: z.record(z.string(), z.string()).optional(), creationTimestamp: z.string().optional() }),
  spec: z.object({ unschedulable: z.boolean().optional(), taints: z.array(z.object({ key: z.string(), effect: z.string() })).optional() }).optional(),
  status: z
    .object({
      allocatable: z.record(z.string(), z.string()).optional(),
      conditions: z.array(z.object({ type: z.string(), status: z.string(), message: z.string().optional() })).optional(),
    })
    .optional(),
});

const Pod = z.object({
  spec: z.object({
    nodeName: z.string().optional(),
    containers: z.array(z.object({ resources: z.object({ requests: z.record(z.string(), z.string()).optional() }).optional() })),
  }),
});

/** Taints that say a provider takes no new work now (see the gateway's availability hours). */
const UNAVAILABLE = /lattice\.dev\/|node\.kubernetes\.io\/(unschedulable|not-ready|unreachable)/;

export function nodeRoutes(ctx: ConsoleContext): Router {
  const router = Router();
  router.get('/providers', async (_req, res) => {
    const { token } = sessionOf(res);
    const nodes = z
      .object({ items: z.array(Node) })
      .parse(await kubeJson(ctx.kube, token, { path: `/api/v1/nodes?labelSelector=${encodeURIComponent(`${PROVIDER_LABEL}=true`)}` }));
    const used = new Map<string, { cpu: number; memory: number }>();
    let usedKnown = true;
    try {
      const fieldSelector = encodeURIComponent('status.phase!=Succeeded,status.phase!=Failed');
      const pods = z.object({ items: z.array(Pod) }).parse(await kubeJson(ctx.kube, token, { path: `/api/v1/pods?fieldSelector=${fieldSelector}` }));
      for (const pod of pods.items) {
        if (!pod.spec.nodeName) continue;
        const sum = used.get(pod.spec.nodeName) ?? { cpu: 0, memory: 0 };
        for (const c of pod.spec.containers) {
          sum.cpu += parseQuantity(c.resources?.requests?.cpu ?? '0');
          sum.memory += parseQuantity(c.resources?.requests?.memory ?? '0');
        }
        used.set(pod.spec.nodeName, sum);
      }
    } catch (err) {
      if (!(err instanceof KubeError && err.status === 403)) throw err;
      usedKnown = false;
    }
    res.json({
      usedKnown,
      providers: nodes.items.map((n) => {
        const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
        const blocking = (n.spec?.taints ?? []).filter((t) => t.effect !== 'PreferNoSchedule' && UNAVAILABLE.test(t.key) && t.key !== PROVIDER_LABEL);
        return {
          name: n.metadata.name,
          ready: ready?.status === 'True',
          readyMessage: ready?.message ?? '',
          available: !n.spec?.unschedulable && blocking.length === 0,
          unavailableBecause: n.spec?.unschedulable ? 'cordoned' : [...new Set(blocking.map((t) => t.key))].join(', '),
          offered: { cpu: parseQuantity(n.status?.allocatable?.cpu ?? '0'), memory: parseQuantity(n.status?.allocatable?.memory ?? '0') },
          used: used.get(n.metadata.name) ?? { cpu: 0, memory: 0 },
          created: n.metadata.creationTimestamp,
        };
      }),
    });
  });
  return router;
}
