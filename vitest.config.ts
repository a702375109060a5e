import { defineConfig } from 'vitest/config';
import { LongFirstSequencer } from './test/support/long-first-sequencer.js';

const jsonReport = process.env.RTCMESH_VITEST_REPORT;

export default defineConfig({
  test: {
    // node-datachannel has crashed inside worker_threads (its issue 129): processes only.
    pool: 'forks',
    // A worker process runs file after file of its project: starting a process and importing the
    // library again for each of about a hundred files cost a third of the suite's CPU time. Every
    // file closes what it opens (test/support/close-after-each.ts) and the W3C project's files
    // never share a process with the others.
    isolate: false,
    // Most test time is spent waiting on the network and timers, not on the CPU: four files at a
    // time keep the 2-core machine busy (three left it idle a quarter of the time).
    maxWorkers: 4,
    // A test checks that a channel nobody references survives a garbage collection.
    execArgv: ['--expose-gc'],
    sequence: { sequencer: LongFirstSequencer },
    testTimeout: 30_000,
    // expect.poll's default of a second is short for a loaded machine; pollUntil's is 10 s too.
    expect: { poll: { timeout: 10_000 } },
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    reporters: jsonReport ? ['default', ['json', { outputFile: jsonReport }]] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'node-datachannel',
          include: ['test/**/*.test.ts'],
          // RTCMESH_BACKEND=w3c in the environment runs this project on the W3C backend too.
          setupFiles: ['test/support/backend-setup.ts'],
        },
      },
      {
        // Both backends keep one behaviour: the transport and mesh suites again, on the W3C
        // backend over node-datachannel's polyfill.
        extends: true,
        test: {
          name: 'w3c-polyfill',
          include: ['test/transport/**/*.test.ts', 'test/mesh/**/*.test.ts'],
          // These pick their own backends or involve none: running them twice would check nothing more.
          exclude: ['test/transport/w3c-backend.test.ts', 'test/transport/backend-contract.test.ts', 'test/transport/memory-backend.test.ts', 'test/transport/option-resolver.test.ts', 'test/mesh/timed-rules.test.ts', 'test/mesh/framing.test.ts', 'test/mesh/outgoing-records.test.ts'],
          env: { RTCMESH_BACKEND: 'w3c' },
          setupFiles: ['test/support/backend-setup.ts'],
        },
      },
    ],
  },
});
