// The console as its browser suites run it: its own build (the SPA's browser typecheck, then the
// route-split bundle), the BFF on a free loopback port pointed at the test cluster, real Chromium,
// and a user who signs in with a token and opens a namespace by typing it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { kubectl, repoRoot, stateDir } from './cluster.js';
import { BUSYBOX, REGISTRY } from './providers.js';

const run = promisify(execFile);
const consoleDir = path.join(repoRoot, 'console');
export const screenshotDir = path.join(repoRoot, 'test-results/console');

/**
 * A ServiceAccount that may edit what one namespace holds, Lattice's kinds included, as a team's
 * member would: kubectl apply this, then sign in with `kubectl create token ACCOUNT -n NAMESPACE`.
 */
export const namespaceEditor = (namespace: string, account: string) => `
apiVersion: v1
kind: ServiceAccount
metadata: { name: ${account}, namespace: ${namespace} }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ${account}-edit, namespace: ${namespace} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }
subjects: [{ kind: ServiceAccount, name: ${account}, namespace: ${namespace} }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: lattice-objects, namespace: ${namespace} }
rules:
  - apiGroups: [lattice.dev]
    resources: [workloads, postgresinstances, cronworkloads]
    verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ${account}-lattice, namespace: ${namespace} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: lattice-objects }
subjects: [{ kind: ServiceAccount, name: ${account}, namespace: ${namespace} }]
`;

/** Typechecks the SPA for the browser and builds its bundle into console/dist. */
export async function buildConsole(): Promise<void> {
  await run(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'], { cwd: consoleDir });
  await run(process.execPath, [path.join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error'], { cwd: consoleDir });
}

export interface Bff {
  url: string;
  child: ChildProcess;
}

/**
 * The deploy form's default images as the suites configure the console: the local registry's, as
 * `make up` does (no Docker Hub here). MinIO has no local image, so it keeps the public default.
 */
export const CONSOLE_IMAGES = { redis: `${REGISTRY}/lattice/redis:7`, cron: BUSYBOX } as const;

/**
 * Starts the BFF against the test cluster's apiserver; resolves once it listens. `env` adds to or
 * overrides its environment; if it stops before it listens, the error carries what it printed.
 */
export async function startBff(env: Record<string, string> = {}): Promise<Bff> {
  const server = (await kubectl(['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])).trim();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: consoleDir,
    env: {
      ...process.env,
      LATTICE_KUBE_SERVER: server,
      LATTICE_KUBE_CA: path.join(stateDir, 'pki/ca.crt'),
      HOST: '127.0.0.1',
      PORT: '0',
      LATTICE_SECURE_COOKIES: 'false',
      LATTICE_CONSOLE_IMAGE_REDIS: CONSOLE_IMAGES.redis,
      LATTICE_CONSOLE_IMAGE_CRON: CONSOLE_IMAGES.cron,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString());
    process.stderr.write(chunk);
  });
  for await (const line of createInterface({ input: child.stdout! })) {
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === 'console listening' && entry.url) return { url: entry.url, child };
  }
  if (!child.stderr!.closed) await new Promise((resolve) => child.stderr!.once('close', resolve));
  throw new Error(`the console BFF exited before it listened: ${stderr.join('')}`);
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Signs in on a fresh /sign-in page and opens `namespace` by typing it (the test accounts cannot list namespaces). */
export async function signInAndOpen(page: Page, baseUrl: string, token: string, namespace: string): Promise<void> {
  await page.goto(baseUrl);
  await page.waitForURL(/\/sign-in$/);
  await page.getByLabel('Kubernetes token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Workloads' }).waitFor();
  await page.getByLabel('Namespace').fill(namespace);
  await page.getByRole('button', { name: 'Open' }).click();
}

/**
 * The little of a browser page's globals the suites read in page.evaluate (the Node program has no
 * DOM types): cast `globalThis` inside the evaluated function, which runs in the page.
 */
export interface PageGlobals {
  document: { activeElement: { getAttribute(name: string): string | null } | null };
  navigator: { clipboard: { readText(): Promise<string> } };
  performance: { now(): number };
}
