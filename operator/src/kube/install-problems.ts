// Mistakes in an install show where they bite: an informer's list or watch is refused because a
// CRD was not applied or the RBAC lacks a right; providers cannot reach the gateway as installed
// (gateway/reachability.ts); the gateway cannot reach the registry (gateway/registry-check.ts).
// Each distinct mistake is said once, as one log line that names the fix, and as a Warning Event
// on the operator's own pod (main.ts), rather than as a retry logged every two seconds; until it
// is fixed the caches do not sync and /readyz says why.
import { EventEmitter } from 'node:events';
import { statusCode } from './errors.js';

export interface InstallProblem {
  reason: 'MissingCRD' | 'MissingAPI' | 'Forbidden' | 'GatewayUnreachable' | 'GatewayCertificate' | 'RegistryUnreachable';
  message: string;
}

/** The apiserver's own words for a refusal (client-node keeps the Status body as a string). */
function apiMessage(err: unknown): string | undefined {
  const body = (err as { body?: unknown } | null)?.body;
  try {
    const status = (typeof body === 'string' ? JSON.parse(body) : body) as { message?: unknown } | undefined;
    return typeof status?.message === 'string' ? status.message : undefined;
  } catch {
    return undefined;
  }
}

/** What a failed list or watch of `path` says about the install, if it is a mistake there. */
export function installProblem(path: string, err: unknown): InstallProblem | undefined {
  const code = statusCode(err) ?? (err as { statusCode?: number } | null)?.statusCode;
  if (code === 403) {
    return { reason: 'Forbidden', message: `${apiMessage(err) ?? `may not list and watch ${path}`}; the operator's RBAC (config/rbac) grants it: apply it again` };
  }
  const api = /^\/apis\/([^/]+)\/([^/]+)\/(?:namespaces\/[^/]+\/)?([^/?]+)/.exec(path);
  if (code === 404 && api) {
    const [, group, version, plural] = api;
    if (group === 'lattice.dev') {
      return { reason: 'MissingCRD', message: `the CustomResourceDefinition ${plural}.${group} is not installed: kubectl apply --server-side -k config/crd` };
    }
    return { reason: 'MissingAPI', message: `the cluster serves no ${plural} in ${group}/${version}` };
  }
  return undefined;
}

/** Emits 'problem' (InstallProblem) the first time each distinct one is reported. */
export class InstallProblems extends EventEmitter {
  private readonly seen = new Map<string, InstallProblem>();

  /** True the first time this problem is reported. */
  report(problem: InstallProblem): boolean {
    const key = `${problem.reason}: ${problem.message}`;
    if (this.seen.has(key)) return false;
    this.seen.set(key, problem);
    this.emit('problem', problem);
    return true;
  }

  /** The problems reported so far, for /readyz. */
  list(): InstallProblem[] {
    return [...this.seen.values()];
  }
}

/** The process's one set: informers report to it, main.ts turns its problems into Events. */
export const installProblems = new InstallProblems();
