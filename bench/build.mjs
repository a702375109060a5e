// Bundles the benchmark (bench/main.ts and the sources it imports) into dist-bench/main.js.
// The engine and the libraries stay external, resolved from node_modules as the package's own are.
//
// Not under dist/: scripts/build.mjs empties dist/ on every `npm run build`, which would pull the
// bundle from under a running benchmark (its memory probes start it again as child processes).
// The directory ignores itself in git, as caches such as .pytest_cache do.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = fileURLToPath(new URL('../dist-bench/', import.meta.url));

mkdirSync(outdir, { recursive: true });
writeFileSync(`${outdir}.gitignore`, '# Built by bench/build.mjs.\n*\n');
// The figures belong to the code as it was bundled: the commit, and how many files of src/ differed.
writeFileSync(`${outdir}build-info.json`, `${JSON.stringify({ builtAt: new Date().toISOString(), source: describeSource() })}\n`);
await build({
  absWorkingDir: root,
  entryPoints: ['bench/main.ts'],
  outfile: 'dist-bench/main.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  external: ['node-datachannel', 'msgpackr', 'eventemitter3', 'ws', 'prom-client', 'playwright-core'],
  sourcemap: true,
  logLevel: 'warning',
});
// The browser scenario's page, with rtcmesh's browser entry bundled in as dist/browser.js bundles
// it (scripts/build.mjs), so that the page runs the source these figures belong to.
await build({
  absWorkingDir: root,
  entryPoints: ['bench/browser/page.ts'],
  outfile: 'dist-bench/page.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  mainFields: ['browser', 'module', 'main'],
  sourcemap: true,
  logLevel: 'warning',
});

function describeSource() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
    return changed === 0 ? `commit ${commit}` : `commit ${commit} with ${changed} file(s) of src/ changed or added`;
  } catch {
    return 'unknown (no git)';
  }
}
