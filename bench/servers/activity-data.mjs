// @ts-check
// The data work of `GET /api/users/:sub/activity`, done by server2's own code: its database,
// its stores and its activity report. The session and @fastify/jwt baselines run it behind their
// own authentication, so that they differ from server2 only in how the caller is authenticated.
// (The bare route does not: it is the framework's ceiling and returns the JSON as a constant.)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { activityReport } from '@jwt-handoff/server2';
import { createSqliteRelyingStores } from '@jwt-handoff/shared';
import { tempDir } from '@jwt-handoff/testkit';
import Database from 'better-sqlite3';

const TIMEOUTS = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };

/**
 * server2's own database and stores in a temporary directory; `close()` removes it.
 * @param {string} prefix of the temporary directory's name
 */
export function openActivityDatabase(prefix) {
  const dir = tempDir(prefix);
  // server2's stores are the relying plugin's, in the file server2 uses.
  const stores = createSqliteRelyingStores({
    dataDir: dir,
    fileName: 'server2.sqlite',
    sessionTimeouts: TIMEOUTS,
  });
  // A second connection to the same file, for the session baseline's own queries.
  const db = new Database(join(dir, 'server2.sqlite'));

  return {
    db,
    /** What server2's handler answers for `sub` (its own activityReport over its own stores). */
    activityOf: (/** @type {string} */ sub, now = Date.now()) => activityReport(sub, stores, now),
    async close() {
      db.close();
      await stores.close?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
