// Whether the gateway reaches the cluster's registry, which it relays to providers (their builds,
// Lattice's images, PostgreSQL's). The default, 127.0.0.1:5001, is a developer machine's: in a pod
// it is the pod's own loopback, where no registry runs, a mistake an install makes easily. A
// registry that does not answer is said once, as an install problem naming the fix.
import type { Logger } from 'pino';
import { installProblems, type InstallProblem } from '../kube/install-problems.js';

const isLoopback = (host: string) => host === 'localhost' || host === '[::1]' || host.startsWith('127.');

/** The install problem of a registry at `url` that did not answer (`failure`). */
export function registryProblem(url: URL, failure: string, inPod: boolean): InstallProblem {
  const fix =
    inPod && isLoopback(url.hostname)
      ? `${url.host} is the operator pod's own loopback: set LATTICE_REGISTRY to the cluster's registry (README: Install on your cluster)`
      : 'set LATTICE_REGISTRY_URL to where the operator reaches the registry (default http://<LATTICE_REGISTRY>)';
  return {
    reason: 'RegistryUnreachable',
    message: `the gateway cannot reach the cluster's registry at ${new URL('/v2/', url).href} (${failure}): providers cannot pull builds nor Lattice's images; ${fix}`,
  };
}

/** Why `url` does not answer as a registry, or undefined when it answers (401 included: it asks for credentials). */
export async function registryFailure(url: URL, timeoutMs = 5_000): Promise<string | undefined> {
  try {
    const res = await fetch(new URL('/v2/', url), { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel();
    return res.status === 200 || res.status === 401 ? undefined : `HTTP ${res.status} at /v2/, not a registry's answer`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? (err as Error).message;
  }
}

export interface RegistryCheckOptions {
  inPod: boolean;
  /** Failed checks in a row before it is a problem: a registry may start after the operator. */
  attempts?: number;
  intervalMs?: number;
}

/** Checks the registry until it answers or has failed `attempts` times in a row, then reports it. */
export function watchRegistry(url: URL, options: RegistryCheckOptions, log: Logger): { stop(): void; done: Promise<void> } {
  const { inPod, attempts = 3, intervalMs = 10_000 } = options;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const check = async (attempt: number) => {
    const failure = await registryFailure(url);
    if (stopped || failure === undefined) return resolveDone();
    if (attempt < attempts) {
      timer = setTimeout(() => void check(attempt + 1), intervalMs);
      return;
    }
    const problem = registryProblem(url, failure, inPod);
    if (installProblems.report(problem)) log.error({ reason: problem.reason }, problem.message);
    resolveDone();
  };
  void check(1);
  return {
    done,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      resolveDone();
    },
  };
}
