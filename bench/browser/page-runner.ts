/**
 * Runs the browser scenario's cases in headless Chromium, started by the browser tests' own
 * launcher (chromium.ts) so that it runs with the switches they found. The page
 * bundle is served on 127.0.0.1 and loaded afresh for each run, so that no run inherits another's
 * heap or connections. One page serves every run: a new one costs its own renderer process,
 * seconds on a loaded machine. With a profile directory, each run is profiled by Chromium's own
 * sampling profiler (CDP Profiler) and written there as a .cpuprofile.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, CDPSession } from 'playwright-core';
import { LOOPBACK_HOST } from '../../src/cli/loopback.js';
import { type OpenedPage, launchChromium, openPage } from './chromium.js';
import type { PairCase } from '../user-loop/case-types.js';

const PAGE = '<!doctype html><script type="module" src="/page.js"></script>';
/**
 * Cross-origin isolation: without it Chromium coarsens performance.now() to 100 µs, too coarse
 * for a round trip of a few hundred; with it, to 5 µs.
 */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
/** The page bundle and its source map, beside the benchmark's bundle (dist-bench/). */
const FILES: Record<string, { path: URL; type: string }> = {
  '/page.js': { path: new URL('./page.js', import.meta.url), type: 'text/javascript' },
  '/page.js.map': { path: new URL('./page.js.map', import.meta.url), type: 'application/json' },
};
/** Chromium's sampling interval when profiling, µs: fine enough for functions of a few µs a packet. */
const PROFILE_INTERVAL_US = 100;

export class PageRunner {
  private runs = 0;

  private constructor(
    private readonly server: Server,
    private readonly browser: Browser,
    private readonly opened: OpenedPage,
    private readonly cdp: CDPSession,
    private readonly profileDir: string | undefined,
  ) {}

  /** Serves the page and starts Chromium. */
  static async start(profileDir: string | undefined): Promise<PageRunner> {
    const files = new Map<string, { body: Buffer; type: string }>();
    for (const [url, { path, type }] of Object.entries(FILES)) files.set(url, { body: await readFile(path), type });
    const server = createServer((request, response) => {
      const file = files.get(request.url ?? '');
      if (request.url === '/') {
        response.writeHead(200, { 'content-type': 'text/html', ...ISOLATION });
        response.end(PAGE);
      } else if (file) {
        response.writeHead(200, { 'content-type': file.type, ...ISOLATION });
        response.end(file.body);
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK_HOST, resolve));
    let browser: Browser | undefined;
    try {
      browser = await launchChromium();
      const opened = await openPage(browser);
      const cdp = await opened.page.context().newCDPSession(opened.page);
      if (profileDir !== undefined) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: PROFILE_INTERVAL_US });
      }
      return new PageRunner(server, browser, opened, cdp, profileDir);
    } catch (error) {
      await browser?.close();
      server.close();
      throw error;
    }
  }

  /** Runs one case on one side on a freshly loaded page, and answers what the page measured. */
  async run<T>(side: 'raw' | 'rtcmesh', test: PairCase, label: string): Promise<T> {
    const { page, errors } = this.opened;
    errors.length = 0;
    await page.goto(`http://${LOOPBACK_HOST}:${(this.server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => window.benchPage !== undefined);
    // Chromium refuses a page's 501st RTCPeerConnection, counting closed ones until they are
    // collected: a run of setups makes 200, and the runs before it left theirs behind.
    await this.cdp.send('HeapProfiler.collectGarbage');
    if (this.profileDir !== undefined) await this.cdp.send('Profiler.start');
    const answer = (await page.evaluate(([s, t]) => window.benchPage.runCase(s, t), [side, test] as const)) as T;
    if (this.profileDir !== undefined) {
      const { profile } = await this.cdp.send('Profiler.stop');
      const name = `${String(++this.runs).padStart(2, '0')}-${side}-${label.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`;
      await writeFile(join(this.profileDir!, name), JSON.stringify(profile));
    }
    if (errors.length > 0) throw new Error(`the page threw: ${errors.join('; ')}`);
    return answer;
  }

  async close(): Promise<void> {
    await this.browser.close();
    const closed = new Promise((resolve) => this.server.close(resolve));
    this.server.closeAllConnections();
    await closed;
  }
}
