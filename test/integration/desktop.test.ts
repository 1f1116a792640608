// The desktop app (all of it but Electron's shell) in real Chromium: its development server serves
// the renderer with the same DesktopApi the preload exposes, backed by the same main-process
// modules, which run a real agent against a real operator and gateway: the single executable a
// packaged app ships (desktop/build/agent, run as from its resources/agent). A provider
// joins (a bad token first), changes limits and hours, stops and starts the agent, sees a killed
// agent come back, and watches a pod arrive and its earnings grow, metered by the cluster.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { parseQuantity } from '@lattice/crds';
import { adminKubeConfig, kubectl, repoRoot, stateDir, uniqueName, waitFor } from '../support/cluster.js';
import { BUILT_AGENT_DIR, builtAgentExecutable } from '../support/agent-executable.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { BUSYBOX, cleanupNodes, removeNamespaceNetworks } from '../support/providers.js';

const run = promisify(execFile);
const kc = adminKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const namespace = uniqueName('it-desktop');
const gatewayNamespace = uniqueName('it-desktop-gw');
const nodeName = uniqueName('desk');
const desktopDir = path.join(repoRoot, 'desktop');
const screenshots = path.join(repoRoot, 'test-results/desktop');

let operator: OperatorProcess;
const operatorLogs: string[] = [];
let grpcPort: number;
let kubeletPort: number;
let devServer: ChildProcess;
const devOutput: string[] = [];
let appDir: string;
let gateway: string;
let browser: Browser;
let page: Page;

/** Starts `desktop/src/dev/main.ts` on a free loopback port; resolves with the URL it prints (with its secret). */
async function startDevServer(): Promise<string> {
  devServer = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(desktopDir, 'src/dev/main.ts'), '--port', '0', '--app-dir', appDir, '--restart-initial-ms', '500', '--agent-dir', BUILT_AGENT_DIR],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  devServer.stderr!.on('data', (d: Buffer) => devOutput.push(d.toString()));
  for await (const line of createInterface({ input: devServer.stdout! })) {
    devOutput.push(line);
    const entry = JSON.parse(line) as { msg?: string; url?: string };
    if (entry.msg === 'desktop dev server listening' && entry.url) {
      createInterface({ input: devServer.stdout! }).on('line', (l) => devOutput.push(l));
      return entry.url;
    }
  }
  throw new Error(`the desktop dev server exited before it listened:\n${devOutput.join('\n')}`);
}

/** The operator (controllers and gateway), metering every second. */
function startOperator(): void {
  if (operator) operatorLogs.push(...operator.output);
  operator = OperatorProcess.start({
    identity: 'desktop-operator',
    namespace: gatewayNamespace,
    watchNamespace: namespace,
    grpcPort,
    kubeletPort,
    disconnectGraceSeconds: 3,
    extra: ['--metering-interval-seconds', '1'],
  });
}

const readNode = () => core.readNode({ name: nodeName });
const isReady = (node: k8s.V1Node) => node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const outsideHours = (node: k8s.V1Node) => node.spec?.taints?.some((t) => t.key === 'lattice.dev/outside-hours' && t.effect === 'NoSchedule') ?? false;
const allocatable = (node: k8s.V1Node) => ({
  cpu: parseQuantity(node.status?.allocatable?.cpu ?? '0'),
  memory: parseQuantity(node.status?.allocatable?.memory ?? '0'),
});
const screenshot = (name: string) => page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });

/** HH:MM in UTC, `hours` from now. */
const utcClock = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString().slice(11, 16);

/** The number a figure of the earnings section shows (e.g. "$1.2345" or "1,234.5"). */
async function figure(label: string): Promise<number> {
  const text = await page.getByLabel(label, { exact: true }).textContent();
  return Number((text ?? '').replace(/[^0-9.]/g, ''));
}

async function saveLogs(): Promise<void> {
  const file = path.join(stateDir, 'logs', 'desktop.log');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, [`--- operator\n${[...operatorLogs, ...(operator?.output ?? [])].join('\n')}`, `--- desktop dev server and agent\n${devOutput.join('\n')}`].join('\n'));
}

beforeAll(async () => {
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespace({ body: { metadata: { name: gatewayNamespace } } });
  // The platform's price list: generous, so the earnings of a few seconds show in dollars.
  await core.createNamespacedConfigMap({
    namespace: gatewayNamespace,
    body: { metadata: { name: 'lattice-pricing' }, data: { currency: 'USD', cpuCoreHour: '3600', memoryGibHour: '360' } },
  });
  [grpcPort, kubeletPort] = [await freePort(), await freePort()];
  gateway = `127.0.0.1:${grpcPort}`;
  startOperator();

  // The renderer as Electron would load it, built by vite, and the agent executable it ships.
  await builtAgentExecutable();
  await run(process.execPath, [path.join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'error'], { cwd: desktopDir });
  appDir = await mkdtemp(path.join(os.tmpdir(), 'lattice-desktop-'));
  const url = await startDevServer();

  await mkdir(screenshots, { recursive: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage();
  await page.goto(url);
  await operator.gatewayListening();
}, 180_000);

afterAll(async () => {
  await saveLogs().catch(() => undefined);
  await browser?.close();
  if (devServer && devServer.exitCode === null) {
    const exited = new Promise((resolve) => devServer.once('exit', resolve));
    devServer.kill('SIGTERM');
    await exited;
  }
  await kubectl(['delete', 'pods', '--all', '-n', namespace, '--force', '--grace-period=0']).catch(() => undefined);
  await operator?.stop();
  await core.deleteNamespace({ name: namespace }).catch(() => undefined);
  await core.deleteNamespace({ name: gatewayNamespace }).catch(() => undefined);
  await core.deleteNode({ name: nodeName }).catch(() => undefined);
  await cleanupNodes([nodeName], appDir ? [appDir] : []);
  await removeNamespaceNetworks([namespace]);
}, 120_000);

describe('the desktop app against a real agent and cluster', () => {
  test('onboarding: a bad token is refused with a clear error; a good one joins, and the Node is Ready with the offered capacity', async () => {
    await page.getByRole('heading', { name: 'Join a Lattice cluster' }).waitFor();
    await expectText(page.getByRole('status').filter({ hasText: 'Docker' }), /Docker .* is running/);

    const join = page.getByRole('form', { name: 'Join' });
    await join.getByLabel('Gateway address').fill(gateway);
    const good = await createJoinToken(gatewayNamespace);
    // Well formed and pinned to this gateway's CA, but a secret the cluster never issued.
    const bad = good.replace(/^(lt1\.[a-z0-9]{6}\.)[a-z0-9]{24}/, '$1' + 'x'.repeat(24));
    await join.getByLabel('Join token').fill(bad);
    await join.getByLabel('Node name').fill(nodeName);
    await join.getByLabel('CPU cores').fill('1');
    await join.getByLabel('Memory (GiB)').fill('1');
    await join.getByRole('button', { name: 'Join' }).click();
    // Unchecked terms are caught before anything is sent.
    await expectText(join.getByRole('alert'), /need fixing/);
    await join.getByRole('checkbox', { name: 'I accept the provider terms' }).check();
    await join.getByRole('button', { name: 'Join' }).click();
    await expectText(join.getByRole('alert'), /The gateway refused to join: the join token is unknown or was revoked/);
    await screenshot('onboarding-bad-token');

    await join.getByLabel('Join token').fill(good);
    await join.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('heading', { name: nodeName }).waitFor({ timeout: 60_000 });
    await expectText(page.getByRole('status').first(), /is running and connected/, 60_000);

    const node = await waitFor('the Node Ready', async () => {
      const n = await readNode().catch(() => undefined);
      return n && isReady(n) ? n : undefined;
    });
    expect(allocatable(node)).toEqual({ cpu: 1, memory: 2 ** 30 });
    expect(outsideHours(node)).toBe(false);
    await screenshot('dashboard');
  });

  test('changing limits and hours applies live: the Node’s allocatable and availability follow', async () => {
    const settings = page.getByRole('form', { name: 'Settings' });
    await settings.getByLabel('CPU cores').fill('0.5');
    await settings.getByLabel('Memory (GiB)').fill('0.5');
    await settings.getByRole('checkbox', { name: 'Only during these hours' }).check();
    // A window that starts two hours from now: the machine is outside its hours.
    await settings.getByLabel('From').fill(utcClock(2));
    await settings.getByLabel('Until').fill(utcClock(3));
    await settings.getByLabel('Time zone').fill('UTC');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expectText(settings.getByRole('status'), /Saved/);

    await waitFor('allocatable 500m / 512Mi and the outside-hours taint', async () => {
      const n = await readNode();
      return allocatable(n).cpu === 0.5 && allocatable(n).memory === 512 * 2 ** 20 && outsideHours(n);
    });
    await expectText(page.getByRole('status').first(), /outside its hours/);

    // Around the clock again, with the whole first offer back.
    await settings.getByLabel('CPU cores').fill('1');
    await settings.getByLabel('Memory (GiB)').fill('1');
    await settings.getByRole('checkbox', { name: 'Only during these hours' }).uncheck();
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await waitFor('allocatable 1 / 1Gi and no outside-hours taint', async () => {
      const n = await readNode();
      return allocatable(n).cpu === 1 && allocatable(n).memory === 2 ** 30 && !outsideHours(n);
    });
    await expectText(page.getByRole('status').first(), /is running and connected/);
  });

  test('more than the machine has is refused with the field at fault', async () => {
    const settings = page.getByRole('form', { name: 'Settings' });
    await settings.getByLabel('CPU cores').fill(String(os.cpus().length + 1));
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expectText(settings.getByRole('alert'), new RegExp(`this machine has ${os.cpus().length} CPU cores`));
    await expect(settings.getByLabel('CPU cores').getAttribute('aria-invalid')).resolves.toBe('true');
    await settings.getByLabel('CPU cores').fill('1');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expectText(settings.getByRole('status'), /Saved/);
  });

  test('the agent stops and starts from the app', async () => {
    await page.getByRole('button', { name: 'Stop' }).click();
    await expectText(page.getByRole('status').first(), /is stopped/);
    await expectText(page.locator('main'), /The agent is stopped/);
    await waitFor('the Node NotReady once its agent is gone', async () => !isReady(await readNode()), { timeoutMs: 30_000 });

    await page.getByRole('button', { name: 'Start' }).click();
    await expectText(page.getByRole('status').first(), /is running and connected/, 60_000);
    await waitFor('the Node Ready again', async () => isReady(await readNode()), { timeoutMs: 60_000 });
  });

  test('an agent killed behind the app’s back is restarted', async () => {
    const before = Number(/process (\d+)/.exec((await page.locator('main').textContent()) ?? '')?.[1]);
    expect(before).toBeGreaterThan(0);
    process.kill(before, 'SIGKILL');
    await expectText(page.locator('main'), /Restarted 1 time; last it killed by SIGKILL/, 30_000);
    await expectText(page.getByRole('status').first(), /is running and connected/, 60_000);
    const after = Number(/process (\d+)/.exec((await page.locator('main').textContent()) ?? '')?.[1]);
    expect(after).not.toBe(before);
    expect(() => process.kill(after, 0)).not.toThrow();
  });

  test('a pod scheduled here shows on the dashboard, then its usage and earnings grow', async () => {
    // A Node that was NotReady carries Kubernetes' not-ready taints until the lifecycle controller clears them.
    await waitFor('the Node schedulable', async () => !(await readNode()).spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/')), { timeoutMs: 60_000 });
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'sleeper' },
        spec: {
          tolerations: [{ key: 'lattice.dev/provider', operator: 'Exists', effect: 'NoSchedule' }],
          nodeSelector: { 'kubernetes.io/hostname': nodeName },
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'main', image: BUSYBOX, command: ['sleep', '3600'], resources: { requests: { cpu: '100m', memory: '64Mi' } } }],
        },
      },
    });
    const pods = page.getByRole('table', { name: 'Pods running here' });
    const row = pods.getByRole('row').filter({ hasText: 'sleeper' });
    await expectText(row, new RegExp(`sleeper\\s*${namespace}\\s*Running\\s*0\\.1 CPU\\s*64 MiB`), 90_000);

    // The pod's own earnings, metered by the cluster, show in its row.
    await waitFor('the pod earning', async () => Number(/\$([\d.]+)\s*$/.exec((await row.textContent()) ?? '')?.[1]) > 0, { timeoutMs: 30_000 });
    const usage = await waitFor('reserved CPU metered', async () => ((await figure('CPU reserved (core-seconds)')) > 0 ? figure('CPU reserved (core-seconds)') : undefined), { timeoutMs: 30_000 });
    const earned = await figure('Total earned');
    await waitFor('usage and earnings to grow', async () => (await figure('CPU reserved (core-seconds)')) > usage && (await figure('Total earned')) > earned, { timeoutMs: 30_000 });
    // The newest day is today's, in UTC (or yesterday's, should midnight have passed just now).
    const days = [new Date(Date.now() - 60_000), new Date()].map((d) => d.toISOString().slice(0, 10));
    const newestDay = await page.getByRole('table', { name: 'Earnings per day' }).getByRole('row').nth(1).getByRole('rowheader').textContent();
    expect(days).toContain(newestDay);
    await page.getByRole('img', { name: /Reserved usage over time/ }).waitFor();
    await screenshot('earnings');

    // The ledger is the cluster's: a ConfigMap the gateway keeps for this node.
    const ledger = await waitFor('the usage ledger persisted', () => core.readNamespacedConfigMap({ name: `lattice-usage-${nodeName}`, namespace: gatewayNamespace }).catch(() => undefined));
    expect(JSON.parse(ledger.data!['usage.json']!)).toMatchObject({ version: 1, days: [expect.objectContaining({ cpuCoreSeconds: expect.any(Number) })] });
  });

  test('an operator restart loses none of the earnings', async () => {
    await operator.stop('SIGTERM');
    const before = await figure('Total earned');
    // On its way out the gateway saved the ledger, with at least what the app showed.
    const saved = await core.readNamespacedConfigMap({ name: `lattice-usage-${nodeName}`, namespace: gatewayNamespace });
    const ledger = JSON.parse(saved.data!['usage.json']!) as { earlierMicros: number; days: Array<{ micros: number }> };
    expect(ledger.earlierMicros + ledger.days.reduce((n, d) => n + d.micros, 0)).toBeGreaterThanOrEqual(before * 1e6 - 100);

    startOperator();
    await operator.gatewayListening();
    await expectText(page.getByRole('status').first(), /is running and connected/, 60_000);
    // The new gateway starts from that ledger and adds to it: the total never drops.
    let lowest = before;
    await waitFor(
      'earnings growing past what was earned before the restart',
      async () => {
        const now = await figure('Total earned');
        lowest = Math.min(lowest, now);
        return now > before;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(lowest).toBe(before);
  });
});

/** Waits until the locator's text matches (playwright-core has no expect of its own). */
async function expectText(locator: ReturnType<Page['locator']>, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  await waitFor(`text ${pattern}`, async () => pattern.test((await locator.textContent({ timeout: 1_000 })) ?? '') || undefined, { timeoutMs }).catch(async (err: Error) => {
    throw new Error(`${err.message}; the text is: ${await locator.textContent({ timeout: 1_000 }).catch(() => '(none)')}`);
  });
}
