// The console's first page: from navigation to a sign-in form a user can type in (the console
// issue asks for under a second on loopback), in a fresh browser context each time, so nothing
// comes from the cache. The baseline, measured in the same run with the same browser, is a bare
// page holding one labelled input served by a plain Node server: what any page costs here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { buildConsole, launchChromium, startBff, type PageGlobals } from '../support/console.js';
import { report } from './stats.js';

const RUNS = Number(process.env.BENCH_CONSOLE_RUNS ?? 20);
const BARE_PAGE = '<!doctype html><title>sign in</title><label>Kubernetes token <input></label>';

/** Milliseconds from navigation until the "Kubernetes token" field is there, `runs` times. */
async function timesToInteractive(browser: Browser, url: string, runs: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(url);
      await page.getByLabel('Kubernetes token').waitFor();
      samples.push(await page.evaluate(() => (globalThis as unknown as PageGlobals).performance.now()));
    } finally {
      await context.close();
    }
  }
  return samples;
}

await buildConsole();
const bff = await startBff();
const bare = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(BARE_PAGE));
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
const browser = await launchChromium();
try {
  // One load each first: Chromium's own start-up is not the pages'.
  await timesToInteractive(browser, `${bff.url}/sign-in`, 1);
  const consoleSamples = await timesToInteractive(browser, `${bff.url}/sign-in`, RUNS);
  const bareSamples = await timesToInteractive(browser, `http://127.0.0.1:${(bare.address() as AddressInfo).port}/`, RUNS);
  report('Console: navigation → sign-in form interactive, fresh context each time (target: under 1000 ms)', 'bare page', [
    { what: 'console /sign-in', samples: consoleSamples, baseline: bareSamples },
  ]);
} finally {
  await browser.close();
  bare.close();
  bff.child.kill('SIGTERM');
}
