// The console end to end, as a user lives it: real Chromium on the console (BFF + SPA), the real
// operator and one real provider agent on a machine of its own behind NAT, with its own Docker
// engine (hack/machines). Through the browser only, the
// user deploys an app from a container image and sees it run, reads its events and live logs,
// scales it, sees an oversize request refused for insufficient resources, deploys PostgreSQL and
// connects to it with psql using the connection string copied from the page, deploys Redis from
// the image the console was configured with and gets its PONG, deploys a cron job and sees its
// next runs and history, and looks at the providers.
//
// The agent's Node carries a label of this run, and the apps select it, so other suites' nodes are
// left alone. The tests run in order on one page, each starting where the previous one ended.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { kubectl, repoRoot, stateDir, uniqueName, waitFor } from '../support/cluster.js';
import { buildConsole, CONSOLE_IMAGES, launchChromium, namespaceEditor, screenshotDir, signInAndOpen, startBff, type Bff, type PageGlobals } from '../support/console.js';
import { PUBLIC_ADDRESS, createMachine, ensureInternet, removeAllMachines } from '../support/machines.js';
import { OperatorProcess, createJoinToken, freePort } from '../support/operator.js';
import { BUSYBOX, joinedAgent, removeSuiteLeftovers, runAgent, stopAgent, type AgentProcess } from '../support/providers.js';

const namespace = uniqueName('e2e-console');
const gatewayNamespace = `${namespace}-gw`;
const RUN_LABEL = 'provider.lattice.dev/e2e-run';
const agent: AgentProcess = { name: `${namespace}-provider`, stateDir: '', output: [] };
const viewerBinding = `${namespace}-provider-viewer`;

let operator: OperatorProcess;
let bff: Bff;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let token: string;
let ingressPort: number;

/** A shell loop that logs a numbered line a second, and stops at once on SIGTERM. */
const TICKER = `trap 'exit 0' TERM; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done`;
/** The same ticker behind a web page on :8080 (busybox httpd goes to the background by itself). */
const WEB_TICKER = `mkdir -p /tmp/www && echo 'hello from web' > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && ${TICKER}`;
/** Public URLs are https://<name>--<namespace>.lattice.localhost:<port>: Chromium sends *.localhost to loopback. */
const BASE_DOMAIN = 'lattice.localhost';

/** The signed-in user: a namespace editor who may also read the providers. */
const user = (ns: string) => `${namespaceEditor(ns, 'user')}---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: ${viewerBinding} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: lattice-provider-viewer }
subjects: [{ kind: ServiceAccount, name: user, namespace: ${ns} }]
`;

beforeAll(async () => {
  // The providers page's ClusterRole comes from the demo user's manifests, as `make up` applies them.
  await kubectl(['apply', '--server-side', '-k', path.join(repoRoot, 'config/console')]);
  await kubectl(['create', 'namespace', namespace]);
  await kubectl(['create', 'namespace', gatewayNamespace]);
  await kubectl(['apply', '-f', '-'], { input: user(namespace) });
  token = (await kubectl(['create', 'token', 'user', '-n', namespace, '--duration=1h'])).trim();

  const [grpcPort, kubeletPort] = [await freePort(), await freePort()];
  ingressPort = await freePort();
  // The provider's machine, and the cluster's public address the gateway listens on for it.
  await ensureInternet();
  const machine = await createMachine();
  operator = OperatorProcess.start({
    identity: 'operator',
    namespace: gatewayNamespace,
    watchNamespace: namespace,
    grpcHost: PUBLIC_ADDRESS,
    grpcPort,
    kubeletPort,
    // PostgreSQL servers too stay on this run's provider (the form gives them no placement).
    extra: ['--ingress-base-domain', BASE_DOMAIN, '--ingress-address', '127.0.0.1', '--ingress-port', String(ingressPort), '--postgres-provider-selector', `${RUN_LABEL}=${namespace}`],
  });
  // The console's build runs while the operator starts.
  const built = buildConsole();
  await operator.gatewayListening();
  const joinToken = await createJoinToken(gatewayNamespace, 1);
  const offer = { cpu: '2', memory: '3Gi', maxPods: 20, labels: { [RUN_LABEL]: namespace } };
  Object.assign(agent, await joinedAgent(agent.name, `${PUBLIC_ADDRESS}:${grpcPort}`, joinToken, offer, { machine }));
  runAgent(agent);
  await built;
  bff = await startBff();
  await mkdir(screenshotDir, { recursive: true });
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: bff.url });
  page = await context.newPage();
  await waitFor(
    `node ${agent.name} Ready and schedulable`,
    async () => {
      const node = JSON.parse(await kubectl(['get', 'node', agent.name, '-o', 'json'])) as {
        spec?: { taints?: { key: string }[] };
        status?: { conditions?: { type: string; status: string }[] };
      };
      const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready && !node.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
}, 180_000);

afterAll(async () => {
  const logFile = path.join(stateDir, 'logs', 'console-e2e.log');
  await mkdir(path.dirname(logFile), { recursive: true });
  await writeFile(logFile, `--- operator\n${operator?.output.join('\n')}\n--- agent\n${agent.output.join('')}`).catch(() => undefined);
  await browser?.close();
  bff?.child.kill();
  await operator?.stop('SIGTERM');
  await stopAgent(agent);
  await kubectl(['delete', 'clusterrolebinding', viewerBinding]).catch(() => undefined);
  await removeSuiteLeftovers({ namespaces: [namespace], gatewayNamespace, agents: [agent] });
  await removeAllMachines();
}, 120_000);

const screenshot = (name: string) => page.screenshot({ path: path.join(screenshotDir, `e2e-${name}.png`), fullPage: true });
const card = (name: string) => page.getByRole('article', { name, exact: true });
const dashboard = async () => {
  await page.getByRole('link', { name: `Back to ${namespace}` }).click();
  await page.getByRole('heading', { name: 'Workloads', exact: true }).waitFor();
};
const openDetails = async (name: string) => {
  await card(name).getByRole('link', { name: `Details of ${name}` }).click();
  await page.getByRole('heading', { name, exact: true, level: 1 }).waitFor();
};

/** Opens the deploy form, picks the type and fills the name; the caller fills the rest. */
async function startDeploy(type: string, name: string): Promise<void> {
  await page.getByRole('link', { name: 'Deploy an app' }).click();
  await page.getByRole('heading', { name: 'Deploy an app' }).waitFor();
  await page.getByLabel('Type', { exact: true }).selectOption({ label: type });
  await page.getByLabel('Name', { exact: true }).fill(name);
}

async function submitDeploy(name: string): Promise<void> {
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  await card(name).waitFor();
}

test('deploys PostgreSQL and a cron job from the form; the cron form previews the schedule in words and its next three runs', async () => {
  await signInAndOpen(page, bff.url, token, namespace);
  await page.getByRole('heading', { name: `No Workloads in ${namespace} yet` }).waitFor();

  await startDeploy('PostgreSQL', 'db');
  await page.getByLabel('Database name').fill('shop');
  await page.getByLabel('Memory', { exact: true }).fill('256Mi');
  await submitDeploy('db');

  await startDeploy('Cron job', 'report');
  await page.getByLabel('Schedule', { exact: true }).fill('*/5 * * * *');
  const preview = page.getByRole('status', { name: 'Schedule preview' });
  await preview.getByText('Every 5 minutes (UTC)').waitFor();
  expect(await preview.getByRole('listitem').count()).toBe(3);
  await page.getByLabel('Command (optional)').fill('echo report done');
  await screenshot('deploy-cron');
  await submitDeploy('report');
  const stored = JSON.parse(await kubectl(['get', 'cronworkload', 'report', '-n', namespace, '-o', 'json']));
  expect(stored.spec).toMatchObject({ schedule: '*/5 * * * *', timeZone: 'UTC', template: { image: BUSYBOX, command: ['sh', '-c', 'echo report done'] } });
});

test('deploys a container-image app; its card goes to running, with its replicas and node', async () => {
  await startDeploy('Container image', 'web');
  await page.getByLabel('Image', { exact: true }).fill(BUSYBOX);
  await page.getByLabel('Command (optional)').fill(WEB_TICKER);
  await page.getByLabel('Port (optional)').fill('8080');
  await page.getByLabel('Public URL').check();
  await page.getByLabel('Provider labels (optional)').fill(`${RUN_LABEL}=${namespace}`);
  await page.getByLabel('CPU', { exact: true }).fill('100m');
  await page.getByLabel('Memory', { exact: true }).fill('64Mi');
  await submitDeploy('web');
  await card('web').getByText('Status: running').waitFor({ timeout: 60_000 });
  expect(await card('web').textContent()).toContain(`Ready1 of 1Nodes${agent.name}`);
  // Running means its public URL answered; the card links it, and the link opens the app. (The
  // certificate is from Lattice's own CA, which this browser profile does not know.)
  const url = `https://web--${namespace}.${BASE_DOMAIN}:${ingressPort}`;
  expect(await card('web').getByRole('link', { name: url }).getAttribute('href')).toBe(url);
  await screenshot('dashboard');
  const visitor = await browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const app = await visitor.newPage();
    await app.goto(url);
    expect(await app.locator('body').textContent()).toContain('hello from web');
  } finally {
    await visitor.close();
  }
});

test('the details page tells the story and streams the logs live: follow, search, pause, download', async () => {
  await openDetails('web');
  await page.getByRole('table', { name: 'Conditions' }).getByRole('rowheader', { name: 'Ready' }).waitFor();
  await page.getByRole('list', { name: 'Events, newest first' }).waitFor();

  const log = page.getByLabel('Log lines');
  const lineCount = async () => ((await log.textContent()) ?? '').split('\n').filter((l) => l.startsWith('tick')).length;
  const first = await waitFor('log lines', async () => (await lineCount()) >= 2 && lineCount(), { timeoutMs: 30_000 });
  await waitFor('new log lines to stream in', async () => (await lineCount()) > first, { timeoutMs: 15_000 });
  await screenshot('details');

  await page.getByLabel('Search logs').fill('tick 2');
  await waitFor('only matching lines', async () => ((await log.textContent()) ?? '').split('\n').every((l) => l.includes('tick 2')));
  await page.getByLabel('Search logs').fill('');

  await page.getByRole('button', { name: 'Pause' }).click();
  const held = await log.textContent();
  await page.getByText(/Paused: [1-9]\d* new lines held back/).waitFor({ timeout: 10_000 });
  expect(await log.textContent()).toBe(held);
  await page.getByRole('button', { name: 'Resume' }).click();
  await waitFor('the held lines shown', async () => (await log.textContent())!.length > held!.length);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^web-.*\.log$/);
  expect(await readFile((await download.path())!, 'utf8')).toMatch(/^tick 1$/m);
});

test('scale: two replicas, both running on the provider', async () => {
  await page.getByLabel('Replicas', { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Scale' }).click();
  await page.getByText('2 of 2', { exact: true }).waitFor({ timeout: 45_000 });
  expect(await kubectl(['get', 'workload', 'web', '-n', namespace, '-o', 'jsonpath={.spec.replicas}'])).toBe('2');
  await dashboard();
});

test('an oversize request shows the insufficient-resources message the API gives', async () => {
  await startDeploy('Container image', 'huge');
  await page.getByLabel('Image', { exact: true }).fill(BUSYBOX);
  await page.getByLabel('Command (optional)').fill(TICKER);
  await page.getByLabel('Provider labels (optional)').fill(`${RUN_LABEL}=${namespace}`);
  await page.getByLabel('CPU', { exact: true }).fill('64');
  await submitDeploy('huge');
  await openDetails('huge');
  const alert = page.getByRole('alert').filter({ hasText: 'Insufficient resources' });
  await alert.waitFor({ timeout: 45_000 });
  expect(await alert.textContent()).toMatch(/^Insufficient resources: 1 of 1 replicas cannot be placed: each replica asks for 64 CPU .*no provider has that much free/);
  await screenshot('insufficient');
  await dashboard();
});

test('PostgreSQL: the connection string is masked until revealed, copied to the clipboard, and psql connects with it', async () => {
  await card('db').getByText('Status: running').waitFor({ timeout: 120_000 });
  await openDetails('db');
  const uriCell = page.getByLabel('Connection string', { exact: true });
  expect(await uriCell.inputValue()).toBe('••••••••••••');
  await page.getByRole('button', { name: 'Reveal connection details' }).click();
  await waitFor('the revealed connection string', async () => (await uriCell.inputValue()).startsWith('postgresql://shop:'));
  await screenshot('postgres');

  await page.getByRole('button', { name: 'Copy connection string' }).click();
  await page.getByText('Connection string copied to the clipboard.').waitFor();
  const copied = await page.evaluate(() => (globalThis as unknown as PageGlobals).navigator.clipboard.readText());
  expect(copied).toBe(await uriCell.inputValue());

  // The string names the Service (db.<ns>.svc), which resolves only inside a cluster network: psql
  // on the provider's machine reaches the server at its pod's IP on that machine's Docker network.
  const uri = new URL(copied);
  uri.hostname = (await kubectl(['get', 'pod', 'db-0', '-n', namespace, '-o', 'jsonpath={.status.podIP}'])).trim();
  const answer = await waitFor(
    'psql to connect',
    async () => {
      const result = await agent.machine!.exec(['psql', uri.toString(), '-qAtc', 'SELECT current_database()'], { timeoutMs: 20_000 });
      if (result.code !== 0) throw new Error(result.stderr);
      return result.stdout.trim();
    },
    { timeoutMs: 30_000, intervalMs: 1000 },
  );
  expect(answer).toBe('shop');
  await dashboard();
});

/** One PING in the Redis protocol, from the provider's machine; resolves with the server's reply. */
async function redisPing(host: string): Promise<string> {
  const script = 'exec 3<>"/dev/tcp/$0/6379" && printf "PING\\r\\n" >&3 && timeout 2 head -c 7 <&3';
  const result = await agent.machine!.exec(['bash', '-c', script, host], { timeoutMs: 10_000 });
  if (result.code !== 0) throw new Error(`no answer from Redis: ${result.stderr.trim() || `exit ${result.code}`}`);
  return result.stdout.trim();
}

test('Redis: the form starts from the configured image, and the Redis it deploys answers', async () => {
  await startDeploy('Redis', 'cache');
  expect(await page.getByLabel('Image', { exact: true }).inputValue()).toBe(CONSOLE_IMAGES.redis);
  await page.getByLabel('Provider labels (optional)').fill(`${RUN_LABEL}=${namespace}`);
  await page.getByLabel('CPU', { exact: true }).fill('100m');
  await submitDeploy('cache');
  await card('cache').getByText('Status: running').waitFor({ timeout: 90_000 });
  expect(await kubectl(['get', 'workload', 'cache', '-n', namespace, '-o', 'jsonpath={.spec.image}'])).toBe(CONSOLE_IMAGES.redis);
  // As for psql: from the provider's machine, at its pod's IP on that machine's Docker network.
  const podIp = (await kubectl(['get', 'pod', 'cache-0', '-n', namespace, '-o', 'jsonpath={.status.podIP}'])).trim();
  await waitFor(
    'Redis to answer PING',
    async () => {
      const reply = await redisPing(podIp);
      if (reply !== '+PONG') throw new Error(`Redis replied ${reply}`);
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
});

test('cron job: its next run and, after Run now, the run in its execution history', async () => {
  await openDetails('report');
  const facts = page.getByRole('region', { name: 'Schedule' });
  await waitFor('the next run', async () => !/not scheduled/.test((await facts.textContent()) ?? ''), { timeoutMs: 30_000 });
  expect(await facts.textContent()).toContain('Every 5 minutes (UTC)');
  await page.getByRole('button', { name: 'Run now' }).click();
  const history = page.getByRole('table', { name: 'Execution history' });
  // The run Run now started (a scheduled one may have come first, on a 5-minute mark).
  await history.getByRole('row', { name: /report-now-[0-9a-f]{8}/ }).getByRole('cell', { name: 'Succeeded' }).waitFor({ timeout: 60_000 });
  await screenshot('cron');
});

test('the providers page shows the agent: ready, taking work, what it offers and what is used', async () => {
  await page.getByRole('link', { name: 'Providers' }).click();
  await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
  const row = page.getByRole('row', { name: new RegExp(agent.name) });
  await row.waitFor();
  const text = (await row.textContent()) ?? '';
  expect(text).toContain('Ready');
  expect(text).toContain('Taking work');
  // web (2 × 100m) and db ask for CPU on this provider, which offers 2.
  expect(text).toMatch(/[0-9.]+ CPU of 2 CPU \(\d+%\)/);
  expect(text).toMatch(/of 3 GiB/);
  await screenshot('providers');

  // Back to the namespace the user was working in.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Workloads' }).click();
  await card('web').waitFor();
});
