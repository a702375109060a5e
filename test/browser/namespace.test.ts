// The browser test files (*.browser.ts), run by one child vitest in a network namespace of its
// own (netns.ts): a test here for each file, passing when every test of that file passed there.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { type BrowserRun, CHILD_TIMEOUT_MS, describeInBrowser, runBrowserFiles } from './netns.js';

const BROWSER_FILE = /\.browser\.ts$/;
const OUTPUT_TAIL_CHARS = 8000;
const files = readdirSync(fileURLToPath(new URL('.', import.meta.url)))
  .filter((file) => BROWSER_FILE.test(file))
  .sort();

let run: Promise<BrowserRun> | undefined;

describeInBrowser('the browser tests, in a network namespace of their own (unshare --net, only lo)', () => {
  for (const file of files) {
    it(
      file,
      async () => {
        const { code, output, files: reported } = await (run ??= runBrowserFiles());
        const tail = output.slice(-OUTPUT_TAIL_CHARS);
        const result = reported.find((candidate) => candidate.name.endsWith(`/test/browser/${file}`));
        expect(result, `the run inside reported nothing of ${file} (exit ${code}):\n${tail}`).toBeDefined();
        const failed = result!.assertionResults.filter((test) => test.status !== 'passed');
        expect(failed.map((test) => `${test.fullName}: ${test.status}\n${test.failureMessages.join('\n')}`), tail).toEqual([]);
        expect(result!.assertionResults.length, `${file} ran no test:\n${tail}`).toBeGreaterThan(0);
        expect(result!.status, `${file}: ${result!.message}`).toBe('passed');
      },
      CHILD_TIMEOUT_MS + 5_000,
    );
  }
});
