// Chromium for the browser tests (test/browser/) and the benchmark's browser scenario: Debian's
// build, driven by playwright-core, with the switches docs/design.md (the engines' traps, Chromium)
// measured: loopback candidates, plain addresses instead of mDNS names, and no name lookups but
// 127.0.0.1's. It lives in bench/, the lowest place both can import.
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';

/** Debian's Chromium (package `chromium`); `npx playwright install` does not work here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Why nothing can run in Chromium here, or null when it can. */
export const CHROMIUM_MISSING: string | null = existsSync(CHROMIUM_PATH)
  ? null
  : `${CHROMIUM_PATH} is missing: install it with \`apt-get update && apt-get install -y chromium\``;

// Playwright 1.65's own --disable-features list (its chromiumSwitches.ts). Chromium keeps only
// the last --disable-features switch, so the one switch passed here carries these too, and
// Playwright's is left out by its exact text. Should a Playwright update change its list, its
// switch stays in, ahead of this one, and this one still wins.
const PLAYWRIGHT_DISABLED_FEATURES = [
  'AvoidUnnecessaryBeforeUnloadCheckSync',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'HttpsFirstBalancedModeAutoEnable',
  'LensOverlay',
  'MediaRouter',
  'PaintHolding',
  'ThirdPartyStoragePartitioning',
  'AvoidCorsURLLoaderRestartOnRedirect',
  'TcpPortRandomizationWin',
  'OptimizationHints',
  'NetworkTimeServiceQuerying',
  'AimEnabled',
  'PreconnectToSearch',
  'msForceBrowserSignIn',
  'msEdgeUpdateLaunchServicesPreferredVersion',
];
// Plain IP addresses in ICE candidates rather than mDNS names, which nothing here resolves.
const DISABLED_FEATURES = ['WebRtcHideLocalIpsWithMdns', ...PLAYWRIGHT_DISABLED_FEATURES];

/** Starts headless Chromium with the switches the browser tests and the browser scenario need. */
export async function launchChromium(): Promise<Browser> {
  // Loaded here, not with the module: every benchmark process would pay a third of a second for it.
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      // The tests run as root, where Chromium's sandbox refuses to start.
      '--no-sandbox',
      '--allow-loopback-in-peer-connection',
      `--disable-features=${DISABLED_FEATURES.join(',')}`,
      '--disable-background-networking',
      // Chromium looks up Google's hosts at start even so: every name but 127.0.0.1 fails at once.
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    ],
    ignoreDefaultArgs: [`--disable-features=${PLAYWRIGHT_DISABLED_FEATURES.join(',')}`],
  });
}

/** A page, and the errors it threw that nothing caught. */
export interface OpenedPage {
  page: Page;
  errors: string[];
}

/**
 * Opens a page in a browser context of its own (a window of its own, as a second player's
 * would be), with camera and microphone granted: without them Chromium gathers no loopback
 * candidates.
 */
export async function openPage(browser: Browser): Promise<OpenedPage> {
  const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, errors };
}
