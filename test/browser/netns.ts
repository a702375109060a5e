// docs/design.md asks that browser tests run in a network namespace of their own, where only `lo`
// exists, so that nothing Chromium does can leave the machine. A process cannot move itself into
// one from Node.js, so namespace.test.ts runs the browser test files (*.browser.ts) in one child
// vitest started under `unshare --net` (with `lo` brought up), and checks what each file reported.
// Where unshare is refused (not root, no user namespaces), the child runs on the host's network:
// the tests still bind and connect to 127.0.0.1 only, and Chromium resolves no name but 127.0.0.1.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { CHROMIUM_MISSING } from '../../bench/browser/chromium.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
/** The configuration of the run inside: the browser files alone. */
const BROWSER_CONFIG = 'test/browser/vitest.config.ts';
// The child's vitest starts in a few seconds; each of its tests is bounded on its own, and they run
// one after another (about 25 s in all here): this is over the sum of their bounds, so that a slow
// test on a loaded machine fails by its own, with its message.
export const CHILD_TIMEOUT_MS = 300_000;
// What the namespace starts with: nothing, not even `lo` up.
const BRING_UP_LOOPBACK = 'ip link set lo up';

/** What vitest's JSON report says of one test. */
export interface ReportedTest {
  fullName: string;
  status: string;
  failureMessages: string[];
}

/** What vitest's JSON report says of one file. */
export interface ReportedFile {
  name: string;
  status: string;
  message: string;
  assertionResults: ReportedTest[];
}

/** The child run: its exit code, its output, and its report (none if it ended before writing one). */
export interface BrowserRun {
  code: number | null;
  output: string;
  files: ReportedFile[];
}

/** Whether this process may make a network namespace and bring its loopback up (root, usually). */
function canUnshareNetwork(): boolean {
  return spawnSync('unshare', ['--net', 'sh', '-c', BRING_UP_LOOPBACK], { stdio: 'ignore' }).status === 0;
}

/** Runs every browser test file in one child vitest, in a network namespace of its own when one can be made. */
export function runBrowserFiles(): Promise<BrowserRun> {
  const reportDir = mkdtempSync(join(tmpdir(), 'rtcmesh-browser-'));
  const report = join(reportDir, 'report.json');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The CI's JSON report belongs to the outer run; the child would overwrite it.
  delete env.RTCMESH_VITEST_REPORT;
  const vitest = [process.execPath, VITEST, 'run', '--config', BROWSER_CONFIG, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
  const inNamespace = canUnshareNetwork();
  if (!inNamespace) console.warn('unshare --net is refused here, so the browser tests run on the host\'s network (on 127.0.0.1 only)');
  const [command, ...args] = inNamespace ? ['unshare', '--net', 'sh', '-c', `${BRING_UP_LOOPBACK} && exec "$0" "$@"`, ...vitest] : vitest;
  const child = spawn(command!, args, {
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
      let files: ReportedFile[] = [];
      try {
        files = (JSON.parse(readFileSync(report, 'utf8')) as { testResults: ReportedFile[] }).testResults;
      } catch {
        // No report: the run ended before writing one, which the output shows.
      }
      rmSync(reportDir, { recursive: true, force: true });
      resolve({ code, output, files });
    });
  });
}

/** Declares a suite of browser tests: skipped, with the reason, without Chromium. */
export function describeInBrowser(name: string, tests: () => void): void {
  describe(name, () => {
    const missing = CHROMIUM_MISSING;
    if (missing === null) {
      tests();
      return;
    }
    it('needs Chromium', (context) => {
      console.warn(missing);
      context.skip(missing);
    });
  });
}
