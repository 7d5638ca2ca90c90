import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests of the shipped build need dist/ (test/global-build.ts says when it rebuilds).
    globalSetup: ['test/global-build.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites that start servers on fixed ports or real control planes must not interleave.
    fileParallelism: true,
    pool: 'forks',
  },
});
