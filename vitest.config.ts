import { defineConfig } from 'vitest/config';

// Tests import the packages by name, so they run against the compiled output (`pretest` builds).
export default defineConfig({
  test: {
    include: ['test/{unit,integration,e2e}/**/*.test.ts', 'test/property/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // CI must never count a skipped test as passed.
    allowOnly: !process.env.CI,
  },
});
