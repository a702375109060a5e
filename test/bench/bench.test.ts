import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/** Every scenario `bench/main.ts` runs; the table must show each. */
const SCENARIOS = ['reliable-throughput', 'unreliable-rate', 'round-trip', 'game-load', 'rpc', 'mesh-formation', 'memory', 'slow-link', 'signaling', 'replication'];

// A smoke test of the benchmark only: it checks that each scenario runs and reports, on its
// smallest size and shortest windows (--smoke), never what it measures.
describe('npm run bench --smoke', () => {
  it('builds, runs every scenario, prints its table with each scenario, and exits 0 by itself', async () => {
    await run(process.execPath, ['bench/build.mjs'], { cwd: root });
    // execFile rejects on a non-zero exit and kills the child past the timeout: both fail the test.
    const { stdout } = await run(process.execPath, ['--expose-gc', 'dist-bench/main.js', '--smoke', '--no-write'], {
      cwd: root,
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toMatch(/^\| scenario +\| metric +\| raw +\| rtcmesh +\|/m);
    for (const scenario of SCENARIOS) expect(stdout).toMatch(new RegExp(`^\\| ${scenario} +\\|`, 'm'));
    expect(stdout).not.toMatch(/^failed:/m);
  }, 180_000);
});
