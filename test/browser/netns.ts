// docs/design.md asks that browser tests run in a network namespace of their own, where only `lo`
// exists, so that nothing Chromium does can leave the machine. A process cannot move itself into
// one from Node.js, so a browser test file runs itself again, in a child vitest started under
// `unshare --net` (with `lo` brought up), and the run outside only checks that the child passed.
// Where unshare is refused (not root, no user namespaces), the tests run in place: they still
// bind and connect to 127.0.0.1 only, and Chromium resolves no name but 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_MISSING } from '../../bench/browser/chromium.js';

/** Set in the child's environment: this run is the one inside the namespace. */
const INSIDE_ENV = 'RTCMESH_BROWSER_NETNS';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
// The child's vitest starts in a few seconds, and its test is bounded to 40 s on its own.
const CHILD_TIMEOUT_MS = 60_000;
// What the namespace starts with: nothing, not even `lo` up.
const BRING_UP_LOOPBACK = 'ip link set lo up';
const OUTPUT_TAIL_CHARS = 8000;

/** Whether this process may make a network namespace and bring its loopback up (root, usually). */
function canUnshareNetwork(): boolean {
  return spawnSync('unshare', ['--net', 'sh', '-c', BRING_UP_LOOPBACK], { stdio: 'ignore' }).status === 0;
}

/** Runs `vitest run <file>` under `unshare --net`; resolves with its exit code and output. */
function runInNamespace(file: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, [INSIDE_ENV]: '1' };
  // The CI's JSON report belongs to the outer run; the child would overwrite it.
  delete env.RTCMESH_VITEST_REPORT;
  const script = `${BRING_UP_LOOPBACK} && exec "$0" "$@"`;
  const child = spawn('unshare', ['--net', 'sh', '-c', script, process.execPath, VITEST, 'run', relative(ROOT, file)], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // A group of its own, so that a timeout ends the child's workers and browsers with it.
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), CHILD_TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/**
 * Declares a suite of browser tests: skipped, with the reason, without Chromium; otherwise run
 * in a network namespace of its own when one can be made, and in place when not.
 * @param fileUrl the test file's `import.meta.url`.
 */
export function describeInBrowser(name: string, fileUrl: string, tests: () => void): void {
  describe(name, () => {
    const missing = CHROMIUM_MISSING;
    if (missing !== null) {
      it('needs Chromium', (context) => {
        console.warn(missing);
        context.skip(missing);
      });
    } else if (process.env[INSIDE_ENV] !== '1' && canUnshareNetwork()) {
      it(
        'passes in a network namespace of its own (unshare --net, only lo)',
        async () => {
          const { code, output } = await runInNamespace(fileURLToPath(fileUrl));
          expect(code, `the run under unshare --net failed:\n${output.slice(-OUTPUT_TAIL_CHARS)}`).toBe(0);
        },
        CHILD_TIMEOUT_MS + 5_000,
      );
    } else {
      if (process.env[INSIDE_ENV] !== '1') console.warn(`${name}: unshare --net is refused here, so these browser tests run on the host's network (on 127.0.0.1 only)`);
      tests();
    }
  });
}
