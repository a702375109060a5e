// The page the browser tests open: an HTTP server on 127.0.0.1 serving the browser bundle
// (dist/browser.js, built by `npm test` before vitest) and a page that imports it as window.rtcmesh.
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const BUNDLE = fileURLToPath(new URL('../../dist/browser.js', import.meta.url));
const PAGE = '<!doctype html><script type="module">import * as rtcmesh from "/browser.js"; window.rtcmesh = rtcmesh;</script>';

/** The page's URL, and how to stop serving it. */
export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the page and the bundle; rejects when the bundle is not built. */
export async function servePage(): Promise<PageServer> {
  const bundle = await readFile(BUNDLE).catch(() => {
    throw new Error(`${BUNDLE} is missing: run \`npm run build\` first (npm test does)`);
  });
  const pages = createServer((request, response) => {
    const script = request.url === '/browser.js';
    response.writeHead(script || request.url === '/' ? 200 : 404, { 'content-type': script ? 'text/javascript' : 'text/html' });
    response.end(script ? bundle : PAGE);
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(pages.address() as AddressInfo).port}/`,
    close: async () => {
      const closed = new Promise((resolve) => pages.close(resolve));
      pages.closeAllConnections();
      await closed;
    },
  };
}
