import { defineConfig } from 'vitest/config';

// The browser test files, which namespace.test.ts runs in a network namespace of their own (one
// child vitest for them all, so Chromium's tests pay for one start of vitest, not one a file).
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/browser/*.browser.ts'],
    // One at a time: each drives a Chromium of its own, and the suite runs other files beside.
    maxWorkers: 1,
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
