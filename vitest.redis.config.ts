import { defineConfig } from 'vitest/config';

// The suite that needs a real redis-server (`npm run test:redis`; .ci/run installs one): the Redis
// stores, several server2 replicas sharing them, and Redis outages. Not part of `npm test`, which
// needs nothing but Node. Each file starts its own redis-server (test/redis/redis-server.ts); one
// file at a time, since the replica races and outages want the machine to themselves.
export default defineConfig({
  test: {
    include: ['test/redis/**/*.test.ts'],
    globalSetup: ['test/redis/global-setup.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    allowOnly: !process.env.CI,
  },
});
