import type * as k8s from '@kubernetes/client-node';
import { accrue, emptyUsage, MAX_DAYS, NodeUsageSchema, reservedBy, toEarnings, type Reserved } from './ledger.js';
import { DEFAULT_PRICES, parsePriceList, type PriceList } from './pricing.js';

const prices: PriceList = { currency: 'USD', cpuCoreHour: 0.036, memoryGibHour: 0.0036 };
const at = (iso: string) => new Date(iso);
/** Reserved in total, pod by pod unknown. */
const held = (cpuMillis: number, memoryBytes: number, pods: number): Reserved => ({ cpuMillis, memoryBytes, pods, each: [] });

function pod(phase: string, containers: Array<{ cpu?: string; memory?: string }>, init: Array<{ cpu?: string; memory?: string }> = [], name = 'p'): k8s.V1Pod {
  const c = (r: { cpu?: string; memory?: string }, i: number): k8s.V1Container => ({ name: `c${i}`, resources: { requests: { ...r } as Record<string, string> } });
  return { metadata: { name, namespace: 'ns' }, spec: { containers: containers.map(c), initContainers: init.map(c) }, status: { phase } };
}

describe('reservedBy', () => {
  it('sums the requests of Running pods only', () => {
    const pods = [pod('Running', [{ cpu: '250m', memory: '128Mi' }, { cpu: '250m' }]), pod('Pending', [{ cpu: '2' }]), pod('Failed', [{ cpu: '1' }])];
    expect(reservedBy(pods)).toMatchObject({ cpuMillis: 500, memoryBytes: 128 * 2 ** 20, pods: 1 });
  });

  it('counts an init container that asks more than the containers together, as the scheduler does', () => {
    expect(reservedBy([pod('Running', [{ cpu: '100m', memory: '64Mi' }], [{ cpu: '1', memory: '32Mi' }])])).toMatchObject({ cpuMillis: 1000, memoryBytes: 64 * 2 ** 20, pods: 1 });
  });

  it('does not count a pod being deleted', () => {
    const leaving = pod('Running', [{ cpu: '1' }]);
    leaving.metadata!.deletionTimestamp = new Date();
    expect(reservedBy([leaving]).pods).toBe(0);
  });
});

describe('accrue', () => {
  it('prices reserved core-seconds and GiB-seconds at the hourly prices', () => {
    // 2 cores and 4 GiB for 10 minutes: 1200 core-s, 2400 GiB-s.
    const usage = accrue(emptyUsage(), held(2000, 4 * 2 ** 30, 3), at('2026-03-01T10:00:00Z'), at('2026-03-01T10:10:00Z'), prices);
    expect(usage.days).toHaveLength(1);
    expect(usage.days[0]!.cpuCoreSeconds).toBeCloseTo(1200);
    expect(usage.days[0]!.memoryGibSeconds).toBeCloseTo(2400);
    // 1200/3600*0.036 + 2400/3600*0.0036 = 0.012 + 0.0024 dollars
    expect(toEarnings(usage, prices, at('2026-03-01T10:10:00Z')).totalMicros).toBe(14_400);
    expect(usage.samples).toEqual([{ at: '2026-03-01T10:10:00.000Z', cpuMillis: 2000, memoryBytes: 4 * 2 ** 30, pods: 3 }]);
  });

  it('splits an interval across midnight (UTC) between the two days', () => {
    const usage = accrue(emptyUsage(), held(1000, 0, 1), at('2026-03-01T23:59:00Z'), at('2026-03-02T00:01:30Z'), prices);
    expect(usage.days.map((d) => [d.date, Math.round(d.cpuCoreSeconds)])).toEqual([
      ['2026-03-01', 60],
      ['2026-03-02', 90],
    ]);
  });

  it('keeps what accrued at the old price when the price changes', () => {
    const first = accrue(emptyUsage(), held(1000, 0, 1), at('2026-03-01T00:00:00Z'), at('2026-03-01T01:00:00Z'), prices);
    const doubled = { ...prices, cpuCoreHour: prices.cpuCoreHour * 2 };
    const second = accrue(first, held(1000, 0, 1), at('2026-03-01T01:00:00Z'), at('2026-03-01T02:00:00Z'), doubled);
    expect(toEarnings(second, doubled, at('2026-03-01T02:00:00Z')).totalMicros).toBe(36_000 + 72_000);
  });

  it('earns nothing while nothing is reserved, but still samples', () => {
    const usage = accrue(emptyUsage(), held(0, 0, 0), at('2026-03-01T00:00:00Z'), at('2026-03-01T05:00:00Z'), prices);
    expect(toEarnings(usage, prices, new Date()).totalMicros).toBe(0);
    expect(usage.samples).toHaveLength(1);
  });

  it('folds days beyond the kept window into the total, losing nothing', () => {
    let usage = emptyUsage();
    const start = at('2026-01-01T00:00:00Z').getTime();
    for (let d = 0; d < MAX_DAYS + 5; d++) {
      usage = accrue(usage, held(1000, 0, 1), new Date(start + d * 86_400_000), new Date(start + d * 86_400_000 + 3_600_000), prices);
    }
    expect(usage.days).toHaveLength(MAX_DAYS);
    expect(usage.days[0]!.date).toBe('2026-01-06');
    expect(toEarnings(usage, prices, new Date()).totalMicros).toBe((MAX_DAYS + 5) * 36_000);
    expect(NodeUsageSchema.safeParse(JSON.parse(JSON.stringify(usage))).success).toBe(true);
  });
});

describe('per pod', () => {
  it('keeps what each pod reserved and earned, the pods running now first', () => {
    const a = pod('Running', [{ cpu: '1' }], [], 'a');
    const b = pod('Running', [{ cpu: '500m' }], [], 'b');
    let usage = accrue(emptyUsage(), reservedBy([a, b]), at('2026-03-01T00:00:00Z'), at('2026-03-01T01:00:00Z'), prices);
    usage = accrue(usage, reservedBy([b]), at('2026-03-01T01:00:00Z'), at('2026-03-01T02:00:00Z'), prices);
    const earnings = toEarnings(usage, prices, at('2026-03-01T02:00:00Z'));
    expect(earnings.pods.map((p) => [p.name, Math.round(p.cpuCoreSeconds), p.amountMicros, p.lastSeen])).toEqual([
      ['b', 3600, 36_000, '2026-03-01T02:00:00.000Z'],
      ['a', 3600, 36_000, '2026-03-01T01:00:00.000Z'],
    ]);
    // The pods add up to the node.
    expect(earnings.pods.reduce((n, p) => n + p.amountMicros, 0)).toBe(earnings.totalMicros);
  });
});

describe('price list', () => {
  it('has defaults when the platform published none', () => {
    expect(parsePriceList(undefined)).toEqual(DEFAULT_PRICES);
    expect(DEFAULT_PRICES.currency).toBe('USD');
  });

  it('reads ConfigMap strings as numbers', () => {
    expect(parsePriceList({ currency: 'EUR', cpuCoreHour: '0.05', memoryGibHour: '0.01' })).toEqual({ currency: 'EUR', cpuCoreHour: 0.05, memoryGibHour: 0.01 });
  });

  it('names the key at fault', () => {
    expect(() => parsePriceList({ cpuCoreHour: '-1' })).toThrow(/cpuCoreHour: cpuCoreHour cannot be negative/);
    expect(() => parsePriceList({ cpuCoreHour: 'cheap' })).toThrow(/cpuCoreHour/);
    expect(() => parsePriceList({ cpuPerHour: '1' })).toThrow(/cpuPerHour|Unrecognized/);
  });
});
