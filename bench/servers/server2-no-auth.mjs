// @ts-check
// A bench-only build of server2's activity route with authentication turned off: server2's own
// app frame (createServiceApp: its logger at the same level, security headers, error handler,
// cookies, forms), server2's own route (apiRoutes) over server2's own stores, with a guard that
// lets every request in. Against server2 with the verified-token cache, it prices what
// authentication adds to the route; against the bare route, what the route's data work adds.
import { rmSync } from 'node:fs';
import { apiRoutes, loadConfig } from '@jwt-handoff/server2';
import { createServiceApp, createSqliteRelyingStores } from '@jwt-handoff/shared';
import { tempDir } from '@jwt-handoff/testkit';
import { serveParent } from '../lib/worker-process.mjs';

/** @import { FastifyInstance } from 'fastify' */

// As app.ts; only the activity route is registered here, so no body reaches it anyway.
const BODY_LIMIT_BYTES = 16 * 1024;

/** @type {{ app: FastifyInstance, close: () => Promise<void> } | undefined} */
let running;

serveParent(
  {
    /**
     * Listens on a free loopback port; `logLevel` as the server2 it is compared with.
     * @param {{ logLevel: string }} args
     */
    async start({ logLevel }) {
      const dataDir = tempDir('bench-server2-no-auth');
      const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: logLevel });
      const stores = createSqliteRelyingStores({
        dataDir,
        fileName: 'server2.sqlite',
        sessionTimeouts: { idleMs: config.sessionIdleTimeoutMs, absoluteMs: config.sessionAbsoluteTimeoutMs },
      });
      const app = await createServiceApp({
        serviceName: 'server2',
        publicUrl: config.publicUrl,
        logLevel: config.logLevel,
        trustProxy: config.trustProxy,
        bodyLimitBytes: BODY_LIMIT_BYTES,
      });
      await app.register(apiRoutes, {
        authenticate: async () => {},
        sessions: stores.sessions,
        activity: stores.activity,
        now: Date.now,
      });
      running = {
        app,
        async close() {
          await app.close();
          await stores.close?.();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
      return { url: await app.listen({ port: 0, host: '127.0.0.1' }) };
    },
  },
  async () => running?.close(),
);
