import { defineConfig } from 'vitest/config';

// Long measurements for docs/reliability.md, outside `npm test`:
//   npx vitest run --config test/long/vitest.config.ts
export default defineConfig({
  test: {
    pool: 'forks',
    include: ['test/long/**/*.long.ts'],
    testTimeout: 900_000,
    hookTimeout: 60_000,
    setupFiles: ['test/support/backend-setup.ts'],
  },
});
