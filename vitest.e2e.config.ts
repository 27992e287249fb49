import { defineConfig } from 'vitest/config';

// The end-to-end flows alone, for a run against services someone else started (SERVER1_URL,
// SERVER2_URL): the docker-compose `e2e` service uses it. Tests that stop and start processes
// (test/e2e/processes) need local processes and run with the main suite instead.
export default defineConfig({
  test: {
    include: ['test/e2e/flows/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    allowOnly: false,
  },
});
