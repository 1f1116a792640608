// A provider's metered usage: what the pods bound to its node reserved (their resource requests),
// accrued per UTC day and priced at the price in force when it accrued, plus recent samples for a
// chart. Pure functions: the clock and the prices are parameters, so the arithmetic is testable.
import type * as k8s from '@kubernetes/client-node';
import { z } from 'zod';
import type { Earnings, UsageSample } from '@lattice/protocol';
import { podRequests } from '../kube/pod-requests.js';
import type { PriceList } from './pricing.js';

/** Days kept one by one; older ones fold into `earlierMicros`. */
export const MAX_DAYS = 90;
/** Samples kept for the usage chart (at the default 30 s interval: six hours). */
export const MAX_SAMPLES = 720;
/** Pods whose own totals are kept, the most recently seen first. */
export const MAX_PODS = 200;

const amount = z.number().finite().min(0);
const DaySchema = z.object({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  cpuCoreSeconds: amount,
  memoryGibSeconds: amount,
  /** Fractional micros: rounding happens only when reported. */
  micros: amount,
});

const PodSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  cpuCoreSeconds: amount,
  memoryGibSeconds: amount,
  micros: amount,
  lastSeen: z.string(),
});

/** The persisted form (a ConfigMap per node): validated when read back. */
export const NodeUsageSchema = z.object({
  version: z.literal(1),
  earlierMicros: amount,
  days: z.array(DaySchema).max(MAX_DAYS),
  samples: z.array(z.object({ at: z.string(), cpuMillis: amount, memoryBytes: amount, pods: amount })).max(MAX_SAMPLES),
  pods: z.array(PodSchema).max(MAX_PODS).default([]),
});

export type NodeUsage = z.infer<typeof NodeUsageSchema>;
export type Day = z.infer<typeof DaySchema>;

export const emptyUsage = (): NodeUsage => ({ version: 1, earlierMicros: 0, days: [], samples: [], pods: [] });

export interface PodReservation {
  namespace: string;
  name: string;
  cpuMillis: number;
  memoryBytes: number;
}

export interface Reserved {
  cpuMillis: number;
  memoryBytes: number;
  pods: number;
  /** The same, pod by pod. */
  each: PodReservation[];
}

const GIB = 2 ** 30;
const DAY_MS = 86_400_000;

/**
 * What the pods bound to a node reserve right now. Only Running pods count: a pod still pulling
 * its image or one that failed is capacity the provider did not deliver.
 */
export function reservedBy(pods: k8s.V1Pod[]): Reserved {
  const each = pods
    .filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp)
    .map((p): PodReservation => {
      const { cpuMillis, memoryBytes } = podRequests(p);
      return { namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', cpuMillis, memoryBytes };
    });
  const sum = (key: 'cpuMillis' | 'memoryBytes') => each.reduce((n, p) => n + p[key], 0);
  return { cpuMillis: sum('cpuMillis'), memoryBytes: sum('memoryBytes'), pods: each.length, each };
}

/** What holding `cpuMillis` and `memoryBytes` for `seconds` reserves and earns. */
function cost(cpuMillis: number, memoryBytes: number, seconds: number, prices: PriceList) {
  const coreSeconds = (cpuMillis / 1000) * seconds;
  const gibSeconds = (memoryBytes / GIB) * seconds;
  return { coreSeconds, gibSeconds, micros: ((coreSeconds * prices.cpuCoreHour + gibSeconds * prices.memoryGibHour) / 3600) * 1e6 };
}

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Adds `reserved`, held from `from` to `to`, at `prices`; an interval across midnight (UTC) is split. */
export function accrue(usage: NodeUsage, reserved: Reserved, from: Date, to: Date, prices: PriceList): NodeUsage {
  const days = usage.days.map((d) => ({ ...d }));
  let cursor = from.getTime();
  const end = to.getTime();
  while (cursor < end) {
    const midnight = (Math.floor(cursor / DAY_MS) + 1) * DAY_MS;
    const until = Math.min(end, midnight);
    const seconds = (until - cursor) / 1000;
    const date = dayOf(cursor);
    let day = days.find((d) => d.date === date);
    if (!day) {
      day = { date, cpuCoreSeconds: 0, memoryGibSeconds: 0, micros: 0 };
      days.push(day);
    }
    const c = cost(reserved.cpuMillis, reserved.memoryBytes, seconds, prices);
    day.cpuCoreSeconds += c.coreSeconds;
    day.memoryGibSeconds += c.gibSeconds;
    day.micros += c.micros;
    cursor = until;
  }
  days.sort((a, b) => a.date.localeCompare(b.date));
  const dropped = days.splice(0, Math.max(0, days.length - MAX_DAYS));
  const { cpuMillis, memoryBytes, pods: podCount } = reserved;
  const samples = [...usage.samples, { at: to.toISOString(), cpuMillis, memoryBytes, pods: podCount }].slice(-MAX_SAMPLES);
  return { version: 1, earlierMicros: usage.earlierMicros + dropped.reduce((n, d) => n + d.micros, 0), days, samples, pods: accruePods(usage.pods, reserved.each, from, to, prices) };
}

/** Each pod's own totals; the pods seen now first, then the others, most recent first. */
function accruePods(pods: NodeUsage['pods'], each: PodReservation[], from: Date, to: Date, prices: PriceList): NodeUsage['pods'] {
  const seconds = Math.max(0, (to.getTime() - from.getTime()) / 1000);
  const key = (p: { namespace: string; name: string }) => `${p.namespace}/${p.name}`;
  const previous = new Map(pods.map((p) => [key(p), p]));
  const now = each.map((r) => {
    const before = previous.get(key(r));
    previous.delete(key(r));
    const c = cost(r.cpuMillis, r.memoryBytes, seconds, prices);
    return {
      namespace: r.namespace,
      name: r.name,
      cpuCoreSeconds: (before?.cpuCoreSeconds ?? 0) + c.coreSeconds,
      memoryGibSeconds: (before?.memoryGibSeconds ?? 0) + c.gibSeconds,
      micros: (before?.micros ?? 0) + c.micros,
      lastSeen: to.toISOString(),
    };
  });
  const others = [...previous.values()].sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
  return [...now, ...others].slice(0, MAX_PODS);
}

/** Everything earned since the node joined, in (fractional) micros. */
export const totalMicros = (usage: NodeUsage) => usage.earlierMicros + usage.days.reduce((n, d) => n + d.micros, 0);

/** The Earnings message for the agent. */
export function toEarnings(usage: NodeUsage, prices: PriceList, now: Date): Earnings {
  return {
    currency: prices.currency,
    totalMicros: Math.round(totalMicros(usage)),
    days: usage.days.map((d) => ({ date: d.date, cpuCoreSeconds: d.cpuCoreSeconds, memoryGibSeconds: d.memoryGibSeconds, amountMicros: Math.round(d.micros) })),
    samples: usage.samples.map((s): UsageSample => ({ at: s.at, cpuMillis: Math.round(s.cpuMillis), memoryBytes: Math.round(s.memoryBytes), pods: s.pods })),
    cpuCoreHourPrice: prices.cpuCoreHour,
    memoryGibHourPrice: prices.memoryGibHour,
    updatedAt: now.toISOString(),
    pods: usage.pods.map((p) => ({ namespace: p.namespace, name: p.name, cpuCoreSeconds: p.cpuCoreSeconds, memoryGibSeconds: p.memoryGibSeconds, amountMicros: Math.round(p.micros), lastSeen: p.lastSeen })),
  };
}
