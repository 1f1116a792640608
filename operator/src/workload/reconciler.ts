// Reconciling one Workload: apply what it becomes, then report what is.
//
//   1. Read the Workload from the cache and its spec through the zod schema.
//   2. Refuse (in status) what cannot run: an unreadable spec, an unusable name, a name already
//      taken by an object this Workload does not manage. A Workload built from source runs the
//      image of its last good build (see ../build/): none yet, and it waits for the first.
//   3. Delete children it no longer needs (a Deployment once it has volumes, and the reverse; the
//      Service once it has no ports). Everything else is deleted by the garbage collector.
//   4. Server-side apply the Deployment or StatefulSet, and the Service.
//   5. Assess the status from the applied object and the pods (a public URL must answer: checked
//      again only when the ready pods change, answered-urls.ts), apply it if it changed, and
//      record an Event for each transition worth telling.
import { isDeepStrictEqual } from 'node:util';
import type * as k8s from '@kubernetes/client-node';
import { API_VERSION, WorkloadSpec, type Workload, type WorkloadStatus } from '@lattice/crds';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ReconcileResult } from '../controller/controller.js';
import { changedConditions, findCondition, nextConditions } from '../controller/conditions.js';
import { splitKey } from '../controller/keys.js';
import type { Applier } from '../kube/apply.js';
import type { EventRecorder, EventTarget } from '../kube/events.js';
import type { Cache } from '../kube/informer.js';
import { isControlledBy } from '../kube/owners.js';
import type { PublicEndpoints } from '../gateway/ingress/exposure.js';
import { checkPublicUrl } from '../gateway/ingress/probe.js';
import { AnsweredUrls } from './answered-urls.js';
import { parseQuantity } from '@lattice/crds';
import type { Builds } from '../build/builds.js';
import { awaitingFirstImage, withBuild, type BuildState } from '../build/status.js';
import { WORKLOADS, type StoredWorkload, type WorkloadCaches } from './caches.js';
import { nameProblem } from './names.js';
import { desiredObjects, desiredReplicas, endpoints, noPublicUrl, publicUrl, type DesiredObjects, type ReplicaSetOwner } from './objects.js';
import type { PodOptions } from './pod-template.js';
import { assess, invalid, isPodReady, READY, type Assessment, type Observed } from './status.js';

/** How soon a public URL that did not answer yet is checked again. */
const PUBLIC_URL_RETRY_MS = 2_000;

export class WorkloadReconciler {
  private readonly answeredUrls = new AnsweredUrls();

  constructor(
    private readonly caches: WorkloadCaches,
    private readonly applier: Applier,
    private readonly events: EventRecorder,
    private readonly options: PodOptions,
    private readonly builds: Builds,
    private readonly publicEndpoints?: PublicEndpoints,
  ) {}

  async reconcile(key: string, log: Logger): Promise<ReconcileResult | void> {
    const { namespace = '', name } = splitKey(key);
    const stored = this.caches.workloads.get(name, namespace);
    // Deleted, or being deleted: the garbage collector removes the children.
    if (!stored || stored.metadata?.deletionTimestamp) {
      this.answeredUrls.forget(key);
      return;
    }

    const spec = WorkloadSpec.safeParse(stored.spec);
    if (!spec.success) {
      return this.report(stored, invalid('InvalidSpec', `spec cannot be read: ${z.prettifyError(spec.error)}`), log);
    }
    let wl = { ...stored, apiVersion: API_VERSION, kind: 'Workload', metadata: stored.metadata ?? {}, spec: spec.data } as Workload;
    const badName = nameProblem(wl);
    if (badName) return this.report(stored, invalid('InvalidName', badName), log);
    let build: BuildState | undefined;
    if (wl.spec.source) {
      build = await this.builds.reconcile(wl, log);
      // A build that failed or still runs leaves the replicas on the image they run.
      const image = build.image ?? this.deployedImage(wl);
      if (!image) return this.report(stored, awaitingFirstImage(build), log);
      wl = { ...wl, spec: { ...wl.spec, image } };
    }

    const desired = desiredObjects(wl, this.options);
    const taken = await this.nameTaken(wl, desired);
    if (taken) return this.report(stored, invalid('NameConflict', taken), log);
    await this.removeUnneeded(wl, desired, log);
    const refusal = this.keepVolumeClaims(wl, desired.replicas) ?? noPublicUrl(wl, this.publicEndpoints);

    const owner = await this.applier.apply(desired.replicas);
    const service = desired.service ? await this.applier.apply(desired.service) : undefined;

    const pods = this.caches.podsOf(namespace, name);
    const url = publicUrl(wl, this.publicEndpoints);
    const observed: Observed = { owner, pods, refusal, endpoints: endpoints(wl, this.publicEndpoints, service), url };
    // Ready means reachable: once every replica is, the public URL must answer through the ingress.
    const readyPods = pods.filter((p) => !p.metadata?.deletionTimestamp && isPodReady(p));
    const allReady = desiredReplicas(wl.spec) > 0 && readyPods.length >= desiredReplicas(wl.spec);
    if (url && allReady && this.publicEndpoints && !this.answeredUrls.has(key, url, readyPods)) {
      observed.publicCheck = await checkPublicUrl(url, this.publicEndpoints.probeAddress);
      this.answeredUrls.record(key, url, readyPods, observed.publicCheck.answered);
    }
    const assessment = assess(wl, observed);
    await this.report(stored, build ? withBuild(assessment, build) : assessment, log);
    if (observed.publicCheck?.answered === false) return { requeueAfterMs: PUBLIC_URL_RETRY_MS };
  }

  /** The image the Workload's replicas run now (built from source: its last good build's). */
  private deployedImage(wl: Workload): string | undefined {
    const { name, namespace, uid } = wl.metadata as { name: string; namespace: string; uid: string };
    const owner = this.caches.deployments.get(name, namespace) ?? this.caches.statefulSets.get(name, namespace);
    return owner && isControlledBy(owner, uid) ? owner.spec?.template?.spec?.containers?.[0]?.image : undefined;
  }

  /** Applies the status if it changed, and tells the story of its transitions as Events. */
  private async report(stored: StoredWorkload, assessment: Assessment, log: Logger): Promise<void> {
    const { name, namespace, generation = 0, uid } = stored.metadata!;
    const previous = stored.status?.conditions;
    const conditions = nextConditions(previous, assessment.conditions, generation, new Date());
    const status: WorkloadStatus = { observedGeneration: generation, ...assessment.status, conditions };
    // JSON drops the undefined fields, as the API would.
    if (isDeepStrictEqual(JSON.parse(JSON.stringify(status)), stored.status)) return;

    const target: EventTarget = { apiVersion: API_VERSION, kind: 'Workload', name: name!, namespace: namespace!, uid: uid! };
    await this.applier.applyStatus(WORKLOADS, target, status);
    log.debug({ phase: status.phase }, 'status updated');

    for (const condition of changedConditions(previous, conditions)) {
      const before = findCondition(previous, condition.type);
      const verdict = assessment.conditions.find((v) => v.type === condition.type)!;
      // Ready tells only its status changes: its reasons repeat those of Scheduled and Degraded.
      const worthTelling =
        condition.type === READY ? before === undefined || before.status !== condition.status : condition.type !== 'Progressing';
      if (!worthTelling || (before === undefined && !verdict.warning)) continue;
      await this.events.record(target, verdict.warning ? 'Warning' : 'Normal', condition.reason, condition.message);
    }
  }

  /**
   * An object with a child's name that this Workload does not manage (a user's own, or one left by
   * an earlier Workload of the same name that the garbage collector has not removed yet) is never
   * taken over. The caches hold only labelled objects, so an unknown name is checked in the API.
   */
  private async nameTaken(wl: Workload, desired: DesiredObjects): Promise<string | undefined> {
    const { name, namespace, uid } = wl.metadata as { name: string; namespace: string; uid: string };
    for (const child of [desired.replicas, desired.service]) {
      if (!child) continue;
      const ref = { apiVersion: child.apiVersion!, kind: child.kind!, metadata: { name, namespace } };
      const existing = this.cacheOf(child.kind!).get(name, namespace) ?? (await this.applier.read(ref));
      if (existing && !isControlledBy(existing, uid)) {
        return `A ${child.kind} named ${name} already exists and is not managed by this Workload. Delete it, or give the Workload another name.`;
      }
    }
    return undefined;
  }

  private async removeUnneeded(wl: Workload, desired: DesiredObjects, log: Logger): Promise<void> {
    const { name, namespace, uid } = wl.metadata as { name: string; namespace: string; uid: string };
    const unneeded: [k8s.KubernetesObject | undefined, string][] = [
      desired.replicas.kind === 'StatefulSet'
        ? [this.caches.deployments.get(name, namespace), 'it has volumes now, so it runs as a StatefulSet']
        : [this.caches.statefulSets.get(name, namespace), 'it has no volumes any more, so it runs as a Deployment'],
      [desired.service ? undefined : this.caches.services.get(name, namespace), 'it has no ports any more'],
    ];
    for (const [child, why] of unneeded) {
      if (!child || !isControlledBy(child, uid)) continue;
      await this.applier.delete(child);
      log.info({ kind: child.kind, name }, `deleted: ${why}`);
      const target = { apiVersion: API_VERSION, kind: 'Workload', name, namespace, uid };
      await this.events.record(target, 'Normal', 'Deleted', `Deleted ${child.kind} ${name}: ${why}.`);
    }
  }

  /**
   * Kubernetes refuses any change to a StatefulSet's volumeClaimTemplates. Rather than failing
   * every apply, the current claims are kept (the rest of the change still rolls out) and the
   * refusal is reported.
   */
  private keepVolumeClaims(wl: Workload, desired: ReplicaSetOwner): Observed['refusal'] {
    if (desired.kind !== 'StatefulSet') return undefined;
    const set = desired as k8s.V1StatefulSet;
    const current = this.caches.statefulSets.get(wl.metadata.name!, wl.metadata.namespace);
    if (!current || !isControlledBy(current, wl.metadata.uid)) return undefined;
    const have = claims(current);
    const want = claims(set);
    if (sameClaims(have, want)) return undefined;
    set.spec!.volumeClaimTemplates = current.spec?.volumeClaimTemplates;
    return {
      reason: 'VolumesImmutable',
      message:
        `spec.volumes asks for ${describeClaims(want)}, but the replicas keep ${describeClaims(have)}: Kubernetes cannot change the volumes ` +
        'of running replicas. Restore spec.volumes, or delete and recreate the Workload (which deletes its volumes).',
    };
  }

  private cacheOf(kind: string): Cache<k8s.KubernetesObject> {
    return kind === 'Service' ? this.caches.services : kind === 'StatefulSet' ? this.caches.statefulSets : this.caches.deployments;
  }
}

interface Claim {
  name: string;
  size: string;
}

/** What the claim templates ask for, by name. */
function claims(set: k8s.V1StatefulSet): Claim[] {
  return (set.spec?.volumeClaimTemplates ?? [])
    .map((t) => ({ name: t.metadata?.name ?? '', size: String(t.spec?.resources?.requests?.storage ?? '0') }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Equal names and sizes, whatever the spelling of a size (the apiserver may write 1Gi as 1024Mi). */
function sameClaims(a: Claim[], b: Claim[]): boolean {
  return a.length === b.length && a.every((c, i) => c.name === b[i]!.name && parseQuantity(c.size) === parseQuantity(b[i]!.size));
}

const describeClaims = (list: Claim[]) => (list.length ? list.map((c) => `${c.name} ${c.size}`).join(', ') : 'no volumes');
