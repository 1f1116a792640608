import { jest } from '@jest/globals';
import type { Probe } from '@lattice/protocol';
import { ContainerProbes, type ProbeListener, ProbeResult, probeTiming } from './probes.js';

const probe = (overrides: Partial<Probe> = {}): Probe => ({
  handler: 'exec',
  exec: { command: ['true'] },
  initialDelaySeconds: 0,
  periodSeconds: 1,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 1,
  ...overrides,
});

describe('probe timing', () => {
  it('takes the kubelet defaults for unset (0) fields', () => {
    expect(probeTiming(probe({ initialDelaySeconds: 0, periodSeconds: 0, timeoutSeconds: 0, successThreshold: 0, failureThreshold: 0 }))).toEqual({
      initialDelayMs: 0,
      periodMs: 10_000,
      timeoutMs: 1_000,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });
});

describe('probe result', () => {
  it('changes only after the threshold of consecutive outcomes', () => {
    const result = new ProbeResult({ successThreshold: 2, failureThreshold: 3 }, true);
    expect([false, false, true, false, false, false, false].map((ok) => result.record(ok))).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      false,
      undefined,
    ]);
    expect([true, true].map((ok) => result.record(ok))).toEqual([undefined, true]);
  });

  it('reports the first outcome of an unknown result once past its threshold', () => {
    expect(new ProbeResult({ successThreshold: 1, failureThreshold: 1 }, undefined).record(false)).toBe(false);
  });
});

describe('container probes', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  function listener() {
    const calls: string[] = [];
    const l: ProbeListener = {
      started: () => calls.push('started'),
      ready: (ready) => calls.push(`ready:${ready}`),
      unhealthy: (kind, message) => calls.push(`unhealthy:${kind}:${message}`),
      failed: (kind) => calls.push(`failed:${kind}`),
    };
    return { calls, l };
  }

  it('is started and ready at once without probes', () => {
    const { calls, l } = listener();
    new ContainerProbes({}, async () => ({ ok: true, message: '' }), l).start(Date.now());
    expect(calls).toEqual(['started', 'ready:true']);
  });

  it('holds liveness and readiness back until the startup probe succeeds', async () => {
    const { calls, l } = listener();
    const outcomes = new Map<Probe, boolean[]>();
    const startup = probe({ failureThreshold: 5 });
    const readiness = probe();
    outcomes.set(startup, [false, true]);
    outcomes.set(readiness, [true]);
    const probes = new ContainerProbes({ startupProbe: startup, readinessProbe: readiness }, async (p) => ({ ok: outcomes.get(p)?.shift() ?? true, message: 'no' }), l);
    probes.start(Date.now());
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(['unhealthy:startup:no']);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual(['unhealthy:startup:no', 'started']);
    await jest.advanceTimersByTimeAsync(1); // readiness begins at once: its initial delay is long past
    expect(calls).toEqual(['unhealthy:startup:no', 'started', 'ready:true']);
    probes.stop();
  });

  it('waits for the initial delay from the container start', async () => {
    const { calls, l } = listener();
    const check = jest.fn(async () => ({ ok: true, message: '' }));
    new ContainerProbes({ readinessProbe: probe({ initialDelaySeconds: 5 }) }, check, l).start(Date.now() - 2_000);
    await jest.advanceTimersByTimeAsync(2_900);
    expect(check).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(100);
    expect(calls).toEqual(['started', 'ready:true']);
  });

  it('gives up on the container after failureThreshold liveness failures, then stops probing', async () => {
    const { calls, l } = listener();
    const check = jest.fn(async () => ({ ok: false, message: 'down' }));
    new ContainerProbes({ livenessProbe: probe({ failureThreshold: 2 }) }, check, l).start(Date.now());
    await jest.advanceTimersByTimeAsync(5_000);
    expect(calls).toEqual(['started', 'ready:true', 'unhealthy:liveness:down', 'unhealthy:liveness:down', 'failed:liveness']);
    expect(check).toHaveBeenCalledTimes(2);
  });

  it('counts a check that throws as a failure', async () => {
    const { calls, l } = listener();
    const probes = new ContainerProbes({ readinessProbe: probe() }, async () => Promise.reject(new Error('boom')), l);
    probes.start(Date.now());
    await jest.advanceTimersByTimeAsync(0);
    expect(calls).toEqual(['started', 'unhealthy:readiness:boom']);
    probes.stop();
  });
});
