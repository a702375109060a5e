import { defineConfig } from 'vitest/config';

const jsonReport = process.env.RTCMESH_VITEST_REPORT;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // node-datachannel has crashed inside worker_threads (its issue 129): processes only.
    pool: 'forks',
    // A test checks that a channel nobody references survives a garbage collection.
    execArgv: ['--expose-gc'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
  },
});
