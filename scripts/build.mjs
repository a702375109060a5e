// Builds dist/: ESM and CommonJS bundles of the package, the CLI, and the .d.ts files.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

const external = ['node-datachannel', 'msgpackr', 'eventemitter3', 'ws'];
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
]);
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
