import { defineConfig } from 'vitest/config';

// The packaging check (`npm run test:package`): packs the shared package, installs the tarball in
// a scratch app outside the repository and signs a user in through that app. npm pack rebuilds
// shared/dist and npm install may reach the registry, hence the long timeouts.
export default defineConfig({
  test: {
    include: ['test/package/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 60_000,
    allowOnly: !process.env.CI,
  },
});
