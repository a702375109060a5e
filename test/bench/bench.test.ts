import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Every scenario `bench/main.ts` runs, in two groups of about the same length that run side by
 * side, two processes rather than more: the suite runs the browser tests and the signaling
 * server's load test beside this; the tables must show each.
 */
const SCENARIO_GROUPS = [
  ['signaling', 'signaling-cluster', 'memory', 'slow-link', 'replication'],
  ['user-loop', 'server-capacity', 'reliable-throughput', 'unreliable-rate', 'round-trip', 'browser', 'game-load', 'rpc', 'mesh-formation'],
];
/** Scenarios that report nothing under --smoke, saying so (the browser's Chromium takes seconds to start). */
const SKIPPED = new Set(['browser']);

// A smoke test of the benchmark only: it checks that each scenario runs and reports, on its
// smallest size and shortest windows (--smoke), never what it measures.
describe('npm run bench --smoke', () => {
  it('builds, runs every scenario, prints its table with each scenario, and exits 0 by itself', async () => {
    await run(process.execPath, ['bench/build.mjs'], { cwd: root });
    // execFile rejects on a non-zero exit and kills the child past the timeout: both fail the test.
    const runs = SCENARIO_GROUPS.map((group) =>
      run(process.execPath, ['--expose-gc', 'dist-bench/main.js', '--smoke', '--only', group.join(','), '--no-write'], {
        cwd: root,
        timeout: 150_000,
        maxBuffer: 16 * 1024 * 1024,
      }),
    );
    for (const [n, { stdout, stderr }] of (await Promise.all(runs)).entries()) {
      expect(stdout).toMatch(/^\| scenario +\| metric +\| raw +\| rtcmesh +\|/m);
      for (const scenario of SCENARIO_GROUPS[n]!) {
        if (SKIPPED.has(scenario)) expect(stderr).toMatch(new RegExp(`^${scenario}: skipped`, 'm'));
        else expect(stdout).toMatch(new RegExp(`^\\| ${scenario} +\\|`, 'm'));
      }
      expect(stdout).not.toMatch(/^failed:/m);
    }
    // The groups hold every scenario there is, as the usage message lists them.
    const usage = await run(process.execPath, ['dist-bench/main.js', '--help'], { cwd: root }).catch((error: { stderr: string }) => error);
    const listed = /^scenarios: (.+)$/m.exec(usage.stderr)?.[1]?.split(', ');
    expect(SCENARIO_GROUPS.flat().sort()).toEqual(listed?.sort());
  }, 180_000);
});
