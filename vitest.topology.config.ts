import { defineConfig } from 'vitest/config';

// `npm run test:topology`: the replica guarantees across the proxy, as deployed. Two replicas of
// each service behind nginx terminating TLS, server1 on PostgreSQL, server2 on Redis: the compose
// topology's e2e container names it by environment (SERVER1_URL, ...; test/topology/target.ts),
// and without SERVER1_URL the global setup starts the same topology locally, without docker.
export default defineConfig({
  test: {
    include: ['test/topology/**/*.test.ts'],
    globalSetup: ['test/topology/global-setup.ts'],
    environment: 'node',
    pool: 'forks',
    // One file at a time: the files share one topology, and the checks that requests spread over
    // the replicas rely on nginx's round-robin seeing only their requests.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // CI must never count a skipped test as passed.
    allowOnly: !process.env.CI,
  },
});
