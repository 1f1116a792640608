// A container's startup, liveness and readiness probes: when they run and what their results mean,
// as the kubelet's prober does. How one probe is carried out is in probe-checks.ts.
import type { Container, Probe } from '@lattice/protocol';

export type ProbeKind = 'startup' | 'liveness' | 'readiness';

export interface ProbeOutcome {
  ok: boolean;
  /** Why it failed, for the Unhealthy event. */
  message: string;
}

export type ProbeCheck = (probe: Probe, timeoutMs: number) => Promise<ProbeOutcome>;

export interface ProbeTiming {
  initialDelayMs: number;
  periodMs: number;
  timeoutMs: number;
  successThreshold: number;
  failureThreshold: number;
}

/** The probe's timing; a 0 (unset in the protocol) takes the kubelet's default. */
export function probeTiming(probe: Probe): ProbeTiming {
  return {
    initialDelayMs: probe.initialDelaySeconds * 1000,
    periodMs: (probe.periodSeconds || 10) * 1000,
    timeoutMs: (probe.timeoutSeconds || 1) * 1000,
    successThreshold: probe.successThreshold || 1,
    failureThreshold: probe.failureThreshold || 3,
  };
}

/**
 * A probe's result: it only changes after `successThreshold` consecutive successes or
 * `failureThreshold` consecutive failures. `initial` is the result before any probe ran
 * (liveness: healthy; readiness: not ready; startup: unknown).
 */
export class ProbeResult {
  private lastOutcome: boolean | undefined;
  private streak = 0;

  constructor(
    private readonly timing: Pick<ProbeTiming, 'successThreshold' | 'failureThreshold'>,
    private result: boolean | undefined,
  ) {}

  /** Records one outcome; returns the new result when it changed. */
  record(ok: boolean): boolean | undefined {
    this.streak = ok === this.lastOutcome ? this.streak + 1 : 1;
    this.lastOutcome = ok;
    const threshold = ok ? this.timing.successThreshold : this.timing.failureThreshold;
    if (this.streak < threshold || this.result === ok) return undefined;
    this.result = ok;
    return ok;
  }
}

/** Runs one probe every period from the container's start plus the initial delay. */
class ProbeLoop {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly timing: ProbeTiming;

  constructor(
    private readonly probe: Probe,
    private readonly check: ProbeCheck,
    private readonly onOutcome: (outcome: ProbeOutcome) => void,
  ) {
    this.timing = probeTiming(probe);
  }

  start(containerStartedAt: number): void {
    this.schedule(Math.max(0, containerStartedAt + this.timing.initialDelayMs - Date.now()));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run(), delayMs);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const outcome = await this.check(this.probe, this.timing.timeoutMs).catch(
      (err: unknown): ProbeOutcome => ({ ok: false, message: err instanceof Error ? err.message : String(err) }),
    );
    if (this.stopped) return;
    this.onOutcome(outcome);
    this.schedule(this.timing.periodMs);
  }
}

export interface ProbeListener {
  /** The startup probe succeeded, or there is none: liveness and readiness begin. */
  started(): void;
  ready(ready: boolean): void;
  /** One probe attempt failed (the kubelet's Unhealthy event). */
  unhealthy(kind: ProbeKind, message: string): void;
  /** Startup or liveness gave up on the container: it must be killed (and restarted per policy). */
  failed(kind: 'startup' | 'liveness', message: string): void;
}

/** All probes of one running container. A new container gets a new instance. */
export class ContainerProbes {
  private readonly loops: ProbeLoop[] = [];

  constructor(
    private readonly container: Pick<Container, 'startupProbe' | 'livenessProbe' | 'readinessProbe'>,
    private readonly check: ProbeCheck,
    private readonly listener: ProbeListener,
  ) {}

  start(containerStartedAt: number): void {
    const startup = this.container.startupProbe;
    if (!startup) {
      this.startRunning(containerStartedAt);
      return;
    }
    const result = new ProbeResult(probeTiming(startup), undefined);
    const loop = this.loop('startup', startup, (outcome) => {
      const changed = result.record(outcome.ok);
      if (changed === true) {
        loop.stop();
        this.startRunning(containerStartedAt);
      } else if (changed === false) {
        this.stop();
        this.listener.failed('startup', outcome.message);
      }
    });
    loop.start(containerStartedAt);
  }

  stop(): void {
    for (const loop of this.loops.splice(0)) loop.stop();
  }

  private startRunning(containerStartedAt: number): void {
    this.listener.started();
    const { livenessProbe, readinessProbe } = this.container;
    if (livenessProbe) {
      const result = new ProbeResult(probeTiming(livenessProbe), true);
      this.loop('liveness', livenessProbe, (outcome) => {
        if (result.record(outcome.ok) === false) {
          this.stop();
          this.listener.failed('liveness', outcome.message);
        }
      }).start(containerStartedAt);
    }
    if (readinessProbe) {
      const result = new ProbeResult(probeTiming(readinessProbe), false);
      this.loop('readiness', readinessProbe, (outcome) => {
        const changed = result.record(outcome.ok);
        if (changed !== undefined) this.listener.ready(changed);
      }).start(containerStartedAt);
    } else {
      this.listener.ready(true);
    }
  }

  private loop(kind: ProbeKind, probe: Probe, onOutcome: (outcome: ProbeOutcome) => void): ProbeLoop {
    const loop = new ProbeLoop(probe, this.check, (outcome) => {
      if (!outcome.ok) this.listener.unhealthy(kind, outcome.message);
      onOutcome(outcome);
    });
    this.loops.push(loop);
    return loop;
  }
}
