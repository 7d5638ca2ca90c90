import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites that start servers on fixed ports or real control planes must not interleave.
    fileParallelism: true,
    pool: 'forks',
  },
});
