// What the install suites share: Lattice installed from config/ into lattice-system, the namespace
// `make up`'s operator uses too, and removed again the way the README says.
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { adminKubeConfig, kubectl, repoRoot, waitFor } from './cluster.js';

export const SYSTEM = 'lattice-system';
export const OPERATOR_SA = `system:serviceaccount:${SYSTEM}:lattice-operator`;
export const CONSOLE_SA = `system:serviceaccount:${SYSTEM}:lattice-console`;
/** The CRDs config/default installs: what the uninstall leaves, with every user's objects. */
export const CRDS = [
  'customresourcedefinition.apiextensions.k8s.io/cronworkloads.lattice.dev',
  'customresourcedefinition.apiextensions.k8s.io/postgresinstances.lattice.dev',
  'customresourcedefinition.apiextensions.k8s.io/workloads.lattice.dev',
];

const core = adminKubeConfig().makeApiClient(k8s.CoreV1Api);
const dirOf = (overlay: string) => path.join(repoRoot, overlay);

/** The uninstall the README gives, of an overlay of config/default: all but the CRDs, which carry this label. */
export const uninstallArgs = (overlay: string): string[] => ['delete', '-k', dirOf(overlay), '-l', 'app.kubernetes.io/component!=api'];

const systemNamespace = () => core.readNamespace({ name: SYSTEM }).catch(() => undefined);

/**
 * For a suite's beforeAll: refuses to go on while a lattice-system that config/ did not make exists
 * (`make up` running), and waits for an earlier install's, still being removed, to be gone.
 */
export async function expectNoInstall(): Promise<void> {
  const existing = await systemNamespace();
  if (existing && existing.metadata?.labels?.['app.kubernetes.io/part-of'] !== 'lattice') {
    throw new Error(`namespace ${SYSTEM} exists and was not made by config/default (is \`make up\` running? \`make down\` first): this suite installs Lattice there and removes it`);
  }
  if (existing?.metadata?.deletionTimestamp) await systemGone();
}

/** Resolves once lattice-system is gone (nothing can be created in it while it is being removed). */
export async function systemGone(): Promise<void> {
  await waitFor(`namespace ${SYSTEM} gone`, async () => (await systemNamespace()) === undefined, { timeoutMs: 120_000 });
}

/**
 * What the install is doing, as `kubectl` shows it, for a failed wait's message: the nodes, the
 * pods in lattice-system, its latest events and the operator's last log lines (of the container
 * before a restart too), so a CI log alone says why the install did not come up.
 */
export async function installReport(): Promise<string> {
  const operator = ['-n', SYSTEM, '-l', 'app.kubernetes.io/name=lattice-operator', '--tail=25', '--prefix', '--ignore-errors'];
  const sections: Array<[string, string[]]> = [
    ['nodes', ['get', 'nodes', '-o', 'wide']],
    [`pods in ${SYSTEM}`, ['-n', SYSTEM, 'get', 'pods', '-o', 'wide']],
    [`latest events in ${SYSTEM}`, ['-n', SYSTEM, 'get', 'events', '--sort-by=.lastTimestamp']],
    ['operator logs', ['logs', ...operator]],
    ['operator logs before a restart', ['logs', '--previous', ...operator]],
  ];
  const parts = await Promise.all(
    sections.map(async ([title, args]) => {
      const out = await kubectl(args).catch((err: Error) => err.message);
      return `--- ${title}\n${out.trim().split('\n').slice(-30).join('\n')}`;
    }),
  );
  return parts.join('\n');
}

/** `wait`, or its error with installReport() after the message. */
export async function explainedByInstall<T>(wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${await installReport()}`, { cause: err });
  }
}

/** The objects of the overlay that still exist, as `kind.group/name`, sorted. */
export async function leftovers(overlay: string): Promise<string[]> {
  const out = await kubectl(['get', '-k', dirOf(overlay), '--ignore-not-found', '-o', 'name']);
  return out.trim().split('\n').filter(Boolean).sort();
}
