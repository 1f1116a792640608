// The console in real Chromium against the real apiserver: a user with a ServiceAccount token
// signs in, deploys a Workload through the form, sees it live, stops and deletes it; a second
// account without RBAC in that namespace sees nothing there and cannot write. The BFF forwards
// each user's own token, so everything asserted here is the apiserver's RBAC at work.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { kubectl, uniqueName, waitFor } from '../support/cluster.js';
import { buildConsole, CONSOLE_IMAGES, launchChromium, namespaceEditor, screenshotDir as screenshots, signInAndOpen as signIn, startBff, type Bff, type PageGlobals } from '../support/console.js';

const namespace = uniqueName('it-console');
const otherNamespace = uniqueName('it-console-other');
const WORKLOAD = 'web';

let bff: Bff;
let baseUrl: string;
let browser: Browser;
let page: Page;
let deployerToken: string;
let outsiderToken: string;


beforeAll(async () => {
  await kubectl(['create', 'namespace', namespace]);
  await kubectl(['create', 'namespace', otherNamespace]);
  await kubectl(['apply', '-f', '-'], { input: namespaceEditor(namespace, 'deployer') });
  await kubectl(['create', 'serviceaccount', 'outsider', '-n', otherNamespace]);
  deployerToken = (await kubectl(['create', 'token', 'deployer', '-n', namespace, '--duration=1h'])).trim();
  outsiderToken = (await kubectl(['create', 'token', 'outsider', '-n', otherNamespace, '--duration=1h'])).trim();

  // The console's own build: the SPA's browser typecheck, then the route-split bundle it serves.
  await buildConsole();
  bff = await startBff();
  baseUrl = bff.url;

  await mkdir(screenshots, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  bff?.child.kill();
  for (const ns of [namespace, otherNamespace]) await kubectl(['delete', 'namespace', ns, '--wait=false']).catch(() => undefined);
});

const screenshot = (name: string) => page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });

const signInAndOpen = (target: Page, token: string, ns: string) => signIn(target, baseUrl, token, ns);

const card = () => page.getByRole('article', { name: WORKLOAD, exact: true });

test('a signed-out visitor is sent to sign in; a token the apiserver accepts signs in, and a new namespace shows what to do', async () => {
  await page.goto(baseUrl);
  await page.waitForURL(/\/sign-in$/);
  // How soon it is interactive is measured by make bench (test/bench/console.bench.ts).
  await page.getByLabel('Kubernetes token').waitFor();
  await screenshot('sign-in');
  await signInAndOpen(page, deployerToken, namespace);
  await page.getByRole('heading', { name: `No Workloads in ${namespace} yet` }).waitFor();
  expect(await page.getByText(`system:serviceaccount:${namespace}:deployer`).isVisible()).toBe(true);
  await screenshot('dashboard-empty');
});

test('the deploy form refuses a bad value on its field, then creates the Workload by server-side apply', async () => {
  await page.getByRole('link', { name: 'Deploy an app' }).click();
  // The page is its own chunk: wait for it, or 'Name' could still find the dashboard's 'Namespace'.
  await page.getByRole('heading', { name: 'Deploy an app' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill(WORKLOAD);
  await page.getByLabel('Image').fill('nginx:1.27');
  await page.getByLabel('Port (optional)').fill('8080');
  await page.getByLabel('CPU').fill('lots');
  await page.getByRole('button', { name: 'Add variable' }).click();
  await page.getByLabel('Name of variable 1').fill('MODE');
  await page.getByLabel('Value of variable 1').fill('production');
  await page.getByRole('button', { name: 'Add variable' }).click();
  await page.getByRole('button', { name: 'Remove variable 2' }).click();
  await page.getByRole('button', { name: 'Deploy' }).click();

  const cpu = page.getByLabel('CPU');
  expect(await cpu.getAttribute('aria-invalid')).toBe('true');
  const errorId = (await cpu.getAttribute('aria-describedby'))?.split(' ').find((id) => id.endsWith('-error'));
  expect(await page.locator(`#${errorId}`).textContent()).toBe('must be a positive Kubernetes quantity, such as 250m, 0.5 or 2');
  // Focus moves to the first invalid field. Read document.activeElement: the :focus selector
  // also needs the browser window itself to hold focus, which a headless window may not.
  // page.evaluate runs through the DevTools protocol; waitForFunction would eval() inside the
  // page, which the console's Content-Security-Policy (rightly) forbids.
  await waitFor('focus on the CPU field', async () => {
    const focused = await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.getAttribute('data-field'));
    if (focused !== 'cpu') throw new Error(`focus is on ${focused ?? 'nothing'}`);
    return true;
  }, { timeoutMs: 10_000 });
  await screenshot('deploy-error');

  await cpu.fill('100m');
  await page.getByRole('button', { name: 'Deploy' }).click();
  await card().waitFor();
  const stored = JSON.parse(await kubectl(['get', 'workload', WORKLOAD, '-n', namespace, '-o', 'json', '--show-managed-fields']));
  expect(stored.spec).toMatchObject({ image: 'nginx:1.27', resources: { cpu: '100m', memory: '256Mi' }, env: [{ name: 'MODE', value: 'production' }] });
  expect(stored.metadata.managedFields).toEqual(expect.arrayContaining([expect.objectContaining({ manager: 'lattice-console', operation: 'Apply' })]));
});

test('the card appears live and tells the truth: pending, nothing ready, no node yet', async () => {
  // No operator or provider runs in this suite, so the Workload stays pending.
  await card().getByText('Status: pending').waitFor();
  expect(await card().textContent()).toMatch(/Ready0 of 1.*Nodesnone yet.*Age\d+s/);
  await screenshot('dashboard-card');

  // A change made elsewhere arrives through the watch, with no reload.
  await kubectl(['patch', 'workload', WORKLOAD, '-n', namespace, '--type=merge', '-p', '{"spec":{"replicas":2}}']);
  await card().getByText('0 of 2').waitFor();
});

test('stop suspends the Workload and the card says stopped; start resumes it', async () => {
  await card().getByRole('button', { name: `Stop ${WORKLOAD}` }).click();
  await card().getByText('Status: stopped').waitFor();
  expect(await kubectl(['get', 'workload', WORKLOAD, '-n', namespace, '-o', 'jsonpath={.spec.suspend}'])).toBe('true');
  await screenshot('dashboard-stopped');
  await card().getByRole('button', { name: `Start ${WORKLOAD}` }).click();
  await card().getByText('Status: pending').waitFor();
  await card().getByRole('button', { name: `Stop ${WORKLOAD}` }).click();
  await card().getByText('Status: stopped').waitFor();
});

test('delete asks for confirmation naming the Workload, then the card goes', async () => {
  await card().getByRole('button', { name: `Delete ${WORKLOAD}` }).click();
  const dialog = page.getByRole('dialog', { name: `Delete ${WORKLOAD}?` });
  await dialog.waitFor();
  expect(await dialog.textContent()).toContain(`namespace ${namespace}`);
  await screenshot('delete-confirmation');
  await dialog.getByRole('button', { name: `Delete ${WORKLOAD}` }).click();
  await page.getByRole('heading', { name: `No Workloads in ${namespace} yet` }).waitFor();
  expect(await card().count()).toBe(0);
  await expect(kubectl(['get', 'workload', WORKLOAD, '-n', namespace])).rejects.toThrow(/NotFound/);
});

test('the deploy form starts Redis and cron jobs from the images the console was started with, and names them', async () => {
  await page.getByRole('link', { name: 'Deploy an app' }).click();
  await page.getByRole('heading', { name: 'Deploy an app' }).waitFor();
  const type = page.getByLabel('Type', { exact: true });
  const image = page.getByLabel('Image', { exact: true });
  // The type's description, as a screen reader announces it with the select.
  const description = page.locator(`#${await type.getAttribute('aria-describedby')}`);
  await type.selectOption({ label: 'Redis' });
  expect(await image.inputValue()).toBe(CONSOLE_IMAGES.redis);
  expect(await description.textContent()).toBe(`Redis from the image ${CONSOLE_IMAGES.redis} (a provider must be able to pull it), on port 6379 with its data on a provider volume.`);
  await screenshot('deploy-redis');
  await type.selectOption({ label: 'Cron job' });
  expect(await image.inputValue()).toBe(CONSOLE_IMAGES.cron);
  // MinIO was not configured: the public default, named as such.
  await type.selectOption({ label: 'MinIO' });
  expect(await image.inputValue()).toBe('minio/minio:latest');
  expect(await description.textContent()).toContain('from the image minio/minio:latest ');

  await type.selectOption({ label: 'Redis' });
  await page.getByLabel('Name', { exact: true }).fill('cache');
  await page.getByRole('button', { name: 'Deploy', exact: true }).click();
  await page.getByRole('article', { name: 'cache', exact: true }).waitFor();
  expect(JSON.parse(await kubectl(['get', 'workload', 'cache', '-n', namespace, '-o', 'jsonpath={.spec}']))).toMatchObject({
    image: CONSOLE_IMAGES.redis,
    ports: [{ name: 'redis', port: 6379 }],
    volumes: [{ name: 'data', mountPath: '/data' }],
  });
  await kubectl(['delete', 'workload', 'cache', '-n', namespace]);
  await page.getByRole('heading', { name: `No Workloads in ${namespace} yet` }).waitFor();
});

test('the default images are served to signed-in users only; a malformed one stops the console at start, naming the variable', async () => {
  expect((await fetch(`${baseUrl}/api/deploy-images`)).status).toBe(401);
  const cookie = (await page.context().cookies(baseUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
  const served = await fetch(`${baseUrl}/api/deploy-images`, { headers: { cookie } });
  expect(await served.json()).toEqual({ ...CONSOLE_IMAGES, minio: 'minio/minio:latest' });

  await expect(startBff({ LATTICE_CONSOLE_IMAGE_REDIS: 'redis 7' })).rejects.toThrow(
    /configuration \(its environment\) is invalid:\n✖ must be an image reference without spaces, e\.g\. registry\.example\.com\/team\/redis:7\n {2}→ at LATTICE_CONSOLE_IMAGE_REDIS/,
  );
});

test('an account without RBAC in the namespace sees nothing there and cannot write', async () => {
  await kubectl(['apply', '--server-side', '-n', namespace, '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'lattice.dev/v1alpha1', kind: 'Workload', metadata: { name: 'secret-app' }, spec: { image: 'nginx:1.27' } }),
  });
  const context = await browser.newContext();
  const outsider = await context.newPage();
  await signInAndOpen(outsider, outsiderToken, namespace);
  const refusal = outsider.getByRole('alert');
  await refusal.waitFor();
  expect(await refusal.textContent()).toMatch(/^Kubernetes refused: .*forbidden.*cannot list resource "workloads"/);
  expect(await outsider.getByRole('article').count()).toBe(0);
  await outsider.screenshot({ path: path.join(screenshots, 'forbidden.png'), fullPage: true });

  // Writes go through the same BFF with the outsider's token: the apiserver's 403 comes back as is.
  const attempt = await outsider.evaluate(async (ns) => {
    const res = await fetch(`/api/namespaces/${ns}/workloads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-requested-with': 'lattice-console' },
      body: JSON.stringify({ name: 'intruder', spec: { image: 'nginx:1.27' } }),
    });
    return { status: res.status, body: (await res.json()) as { error: string } };
  }, namespace);
  expect(attempt.status).toBe(403);
  expect(attempt.body.error).toMatch(/^Kubernetes refused: .*forbidden/);
  await context.close();
});

test('the API refuses a write without the console header, and bad input with a clear JSON error', async () => {
  const session = await page.context().cookies(baseUrl);
  expect(session).toEqual([expect.objectContaining({ name: 'lattice-session', httpOnly: true, sameSite: 'Strict' })]);
  const cookie = session.map((c) => `${c.name}=${c.value}`).join('; ');
  const forged = await fetch(`${baseUrl}/api/namespaces/${namespace}/workloads`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'forged', spec: { image: 'nginx:1.27' } }),
  });
  expect(forged.status).toBe(403);
  const invalid = await fetch(`${baseUrl}/api/namespaces/${namespace}/workloads`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', 'x-requested-with': 'lattice-console' },
    body: JSON.stringify({ name: 'bad', spec: { image: 'nginx:1.27', replicas: 500 } }),
  });
  expect(invalid.status).toBe(400);
  expect(await invalid.json()).toMatchObject({ issues: [{ path: ['spec', 'replicas'] }] });
});

test('the providers page tells an account without rights on nodes that it is not allowed', async () => {
  await page.getByRole('link', { name: 'Providers' }).click();
  await page.getByRole('heading', { name: 'Providers', level: 1 }).waitFor();
  const refusal = page.getByRole('alert');
  await refusal.waitFor();
  expect(await refusal.textContent()).toMatch(/^Not allowed: your account may not list provider nodes\. Kubernetes refused: .*cannot list resource "nodes"/);
  expect(await page.getByRole('table').count()).toBe(0);
  await screenshot('providers-forbidden');
});

test('sign-out ends the session: the cookie no longer opens the API, and the pages ask to sign in again', async () => {
  const cookie = (await page.context().cookies(baseUrl)).map((c) => `${c.name}=${c.value}`).join('; ');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/sign-in$/);
  expect((await fetch(`${baseUrl}/api/session`, { headers: { cookie } })).status).toBe(401);
  await page.goto(baseUrl);
  await page.waitForURL(/\/sign-in$/);
});
