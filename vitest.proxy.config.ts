import { defineConfig } from 'vitest/config';

// The proxy suite (`npm run test:proxy`): both services behind a real nginx that terminates TLS,
// configured from deploy/nginx's template. Needs the nginx and openssl binaries.
export default defineConfig({
  test: {
    include: ['test/proxy/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    allowOnly: !process.env.CI,
  },
});
