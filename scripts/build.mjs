// Builds dist/: ESM and CommonJS bundles of the package, the CLI, and the .d.ts files.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { build } from 'esbuild';

const external = ['node-datachannel', 'msgpackr', 'eventemitter3', 'ws', 'prom-client', 'ioredis'];
const common = { bundle: true, platform: 'node', target: 'node20', external, sourcemap: true, logLevel: 'warning' };

rmSync('dist', { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: ['src/index.ts'], format: 'esm', outfile: 'dist/index.js' }),
  build({ ...common, entryPoints: ['src/index.ts'], format: 'cjs', outfile: 'dist/index.cjs' }),
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    format: 'esm',
    outfile: 'dist/cli/main.js',
    banner: { js: '#!/usr/bin/env node' },
  }),
  // The browser bundle: everything in one file, dependencies included, nothing of Node. With
  // platform 'browser', esbuild refuses to resolve a Node built-in, and picks each package's
  // browser build (msgpackr's has no Buffer or Node stream in it).
  build({
    entryPoints: ['src/browser.ts'],
    outfile: 'dist/browser.js',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    mainFields: ['browser', 'module', 'main'],
    sourcemap: true,
    logLevel: 'warning',
  }),
]);
checkBrowserBundle('dist/browser.js');
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });

/** Fails the build if a bundle for browsers still loads a Node built-in, by import or require. */
function checkBrowserBundle(file) {
  const code = readFileSync(file, 'utf8');
  const loaded = [...code.matchAll(/(?:\brequire\s*\(|\bimport\s*\(|\bfrom)\s*["']([^"']+)["']/g)].map((match) => match[1]);
  const nodeModules = loaded.filter((name) => name.startsWith('node:') || builtinModules.includes(name.split('/')[0]));
  if (nodeModules.length > 0) {
    throw new Error(`${file} loads Node built-ins (${[...new Set(nodeModules)].join(', ')}): the browser entry must not reach them.`);
  }
}
