// Serves the browser client: the page and its bundle, read from the build's public directory on
// every request (so a rebuild shows at the next reload). Only the files named here are reachable.
import { readFile } from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/** A listening page server. */
export interface PageServer {
  /** The page's address, such as `http://127.0.0.1:8080/`. */
  url: string;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

// URL path to file name: a fixed list, so no request can name a path of its own.
const FILES = new Map([
  ['/', 'index.html'],
  ['/index.html', 'index.html'],
  ['/main.js', 'main.js'],
  ['/main.js.map', 'main.js.map'],
]);

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  map: 'application/json; charset=utf-8',
};

/**
 * Serves the files of `publicDir` on `host`:`port` (0 picks a free port).
 * Rejects with Node's error when the port cannot be bound.
 */
export async function servePages(publicDir: string, host: string, port: number): Promise<PageServer> {
  const server = createServer((request, response) => void answer(publicDir, request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // A browser keeps its connections alive; they would hold close() open.
        server.closeAllConnections();
      }),
  };
}

async function answer(publicDir: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const file = FILES.get(new URL(request.url ?? '/', 'http://page').pathname);
  if (request.method !== 'GET' && request.method !== 'HEAD') return reply(response, 405, 'method not allowed\n');
  if (file === undefined) return reply(response, 404, 'not found\n');
  let body: Buffer;
  try {
    body = await readFile(join(publicDir, file));
  } catch {
    return reply(response, 500, `${file} is missing: build the arena first (node samples/arena/build.mjs)\n`);
  }
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[file.slice(file.lastIndexOf('.') + 1)]!,
    'content-length': body.byteLength,
    'cache-control': 'no-store',
  });
  response.end(request.method === 'HEAD' ? undefined : body);
}

function reply(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(text);
}
