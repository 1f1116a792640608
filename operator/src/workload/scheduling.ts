// Why a replica has no provider, in words a user can act on. The kube-scheduler explains every
// failed attempt in the pod's PodScheduled=False condition, e.g. (Kubernetes 1.35)
//   0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 Insufficient cpu. no new
//   claims to deallocate, preemption: 0/4 nodes are available: 4 No preemption victims found...
// Its first sentence counts, per filter, the nodes that failed it; the rest (dynamic resource
// claims, preemption) is noise for a user.
import type { WorkloadSpec } from '@lattice/crds';
import { OUTSIDE_HOURS_TAINT_KEY } from '../gateway/availability.js';

export interface SchedulerVerdict {
  /** Nodes the scheduler considered; undefined if the message had no "0/N nodes" part. */
  nodes?: number;
  reasons: { count: number; reason: string }[];
  /** The first sentence of the message (the whole message if it has another shape). */
  summary: string;
}

// The sentence ends at a period followed by a space or the end: taint keys inside a reason
// ("{node.kubernetes.io/not-ready: }") have periods too, followed by letters.
const VERDICT = /^\d+\/(\d+) nodes are available:?\s*(.*?)\.(?=\s|$)/s;

export function parseVerdict(message: string): SchedulerVerdict {
  const m = VERDICT.exec(message.trim());
  if (!m) return { reasons: [], summary: message.trim() };
  const reasons = m[2]!
    .split(/,\s*(?=\d+ )/)
    .map((part) => /^(\d+) (.+)$/.exec(part.trim()))
    .filter((r): r is RegExpExecArray => r !== null)
    .map((r) => ({ count: Number(r[1]), reason: r[2]! }));
  return { nodes: Number(m[1]), reasons, summary: m[0] };
}

export type UnschedulableReason = 'InsufficientCapacity' | 'NoProviders' | 'NoMatchingProvider' | 'Unschedulable';

export interface Unschedulable {
  reason: UnschedulableReason;
  message: string;
}

const INSUFFICIENT = /^Insufficient (\S+)$/;
const SELECTOR = /didn't match Pod's node affinity\/selector/;
// "had untolerated taint {key: value}" up to 1.34; "had untolerated taint(s)", without the key, since.
const TAINT = /had untolerated taint(?:\(s\)| \{([^:}]+))/;

/**
 * The Scheduled=False condition for `unplaced` of `desired` replicas, from the scheduler's message
 * on one of them (they share one spec, so one verdict speaks for all).
 */
export function unschedulable(spec: WorkloadSpec, verdictMessage: string, unplaced: number, desired: number): Unschedulable {
  const verdict = parseVerdict(verdictMessage);
  const asks = `each replica asks for ${spec.resources.cpu} CPU and ${spec.resources.memory} memory`;
  const lead = `${unplaced} of ${desired} replicas cannot be placed`;
  const scheduler = `(scheduler: "${verdict.summary}")`;
  const why = verdict.reasons.map((r) => explain(r.count, r.reason, spec)).join('; ');

  if (verdict.nodes === 0 || /no nodes available/.test(verdict.summary)) {
    return { reason: 'NoProviders', message: `${lead}: no provider node is connected to the cluster. Add a provider with lattice-agent join.` };
  }
  if (verdict.reasons.some((r) => INSUFFICIENT.test(r.reason))) {
    return {
      reason: 'InsufficientCapacity',
      message:
        `${lead}: ${asks}, and no provider has that much free: ${why} ${scheduler}. ` +
        'Lower spec.resources, or add a provider with more free capacity; the replicas start as soon as one fits.',
    };
  }
  if (verdict.reasons.length > 0 && verdict.reasons.every((r) => SELECTOR.test(r.reason) || TAINT.test(r.reason))) {
    return {
      reason: 'NoMatchingProvider',
      message: `${lead}: no provider is eligible: ${why} ${scheduler}.${spec.placement?.providerSelector ? ' Check spec.placement.providerSelector.' : ''}`,
    };
  }
  return { reason: 'Unschedulable', message: why ? `${lead}: ${why} ${scheduler}.` : `${lead}: ${verdict.summary}` };
}

function explain(count: number, reason: string, spec: WorkloadSpec): string {
  const one = count === 1;
  const nodes = one ? '1 node' : `${count} nodes`;
  const are = `${nodes} ${one ? 'is' : 'are'}`;
  const insufficient = INSUFFICIENT.exec(reason);
  if (insufficient) return `${nodes} ${one ? 'lacks' : 'lack'} free ${insufficient[1]}`;
  if (SELECTOR.test(reason)) {
    return spec.placement?.providerSelector
      ? `${are} not ${one ? 'a provider' : 'providers'} matching spec.placement.providerSelector ${JSON.stringify(spec.placement.providerSelector)}`
      : `${are} not ${one ? 'a provider node' : 'provider nodes'}`;
  }
  const taint = TAINT.exec(reason)?.[1];
  if (taint === OUTSIDE_HOURS_TAINT_KEY) return `${are} outside the provider's availability hours`;
  if (taint === 'node.kubernetes.io/not-ready' || taint === 'node.kubernetes.io/unreachable') return `${are} not ready (provider offline)`;
  if (taint === 'node.kubernetes.io/unschedulable') return `${are} cordoned`;
  if (taint === undefined && TAINT.test(reason)) {
    return `${nodes} ${one ? 'has' : 'have'} a taint the replicas do not tolerate (offline, outside availability hours, cordoned or reserved)`;
  }
  if (/topology spread constraints/.test(reason)) {
    return `${nodes} would hold a second replica while another provider has none (spreadAcrossProviders)`;
  }
  return `${nodes}: ${reason}`;
}
