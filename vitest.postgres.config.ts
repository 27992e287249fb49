import { defineConfig } from 'vitest/config';

// `npm run test:postgres`: server1 on a real PostgreSQL 15 that the global setup starts (and the
// fault tests start their own, to stop it). Not part of `npm test`, which needs nothing installed.
export default defineConfig({
  test: {
    include: ['test/postgres/**/*.test.ts'],
    globalSetup: ['test/postgres/global-setup.ts'],
    environment: 'node',
    pool: 'forks',
    // One file at a time: the replicas' timing tests share two cores with the database server.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI must never count a skipped test as passed.
    allowOnly: !process.env.CI,
  },
});
