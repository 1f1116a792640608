// Helpers shared by the integration and end-to-end suites. They talk to the real cluster that
// `hack/cluster up` started (or CLUSTER=existing), through .lattice/kubeconfig.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { KINDS } from '@lattice/crds';
import { crdName } from '../../crds/src/crd.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const stateDir = process.env.LATTICE_STATE ?? path.join(repoRoot, '.lattice');
export const kubeconfigPath = path.join(stateDir, 'kubeconfig');
export const binDir = path.join(repoRoot, 'bin');

/** The admin KubeConfig of the running test cluster. */
export function adminKubeConfig(): k8s.KubeConfig {
  if (!existsSync(kubeconfigPath)) {
    throw new Error(`${kubeconfigPath} does not exist: start the cluster with \`make up\` (or hack/cluster up)`);
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

const run = promisify(execFile);

/** Runs the pinned kubectl against the test cluster; rejects with stderr on a non-zero exit. */
export async function kubectl(args: string[], options: { input?: string } = {}): Promise<string> {
  const kubectlBin = existsSync(path.join(binDir, 'kubectl')) ? path.join(binDir, 'kubectl') : 'kubectl';
  const child = run(kubectlBin, ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 64 * 1024 * 1024 });
  if (options.input !== undefined) {
    child.child.stdin?.end(options.input);
  }
  const { stdout } = await child;
  return stdout;
}

/**
 * Applies Lattice's CRDs and admission policies as config/ has them now, and waits until the
 * apiserver serves the kinds: every suite's operator watches them (see global-setup.mjs, which
 * runs it first).
 */
export async function installCrds(): Promise<void> {
  // -k, not -f: each directory also holds its kustomization.yaml. --force-conflicts: these are
  // the current ones even if someone else applied older ones.
  for (const dir of ['config/crd', 'config/admission']) await kubectl(['apply', '--server-side', '--force-conflicts', '-k', path.join(repoRoot, dir)]);
  await kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...KINDS.map((k) => `crd/${crdName(k)}`)]);
}

/**
 * Polls `probe` until it returns a value other than undefined/false, or fails after `timeoutMs`
 * with the last error or value, so a failing test says what it was waiting for.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 60_000, intervalMs = 250 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A unique, DNS-safe name for a test's objects. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/** A Secret's data, decoded: what `kubectl get secret -o jsonpath` would print per key. */
export function secretData(secret: k8s.V1Secret): Record<string, string> {
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString()]));
}
