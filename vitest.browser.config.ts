import { defineConfig } from 'vitest/config';

// The real-browser suite (Debian's Chromium through playwright-core): `npm run test:browser`. Over
// plain http against local services, and through nginx over https (through-nginx.test.ts), which
// also needs nginx, openssl, certutil, redis-server and PostgreSQL.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    allowOnly: !process.env.CI,
  },
});
