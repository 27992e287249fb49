// @ts-check
// The data work of `GET /api/users/:sub/activity`, done by server2's own code: its database,
// its stores and its activity report. The session and @fastify/jwt baselines run it behind their
// own authentication, so that they differ from server2 only in how the caller is authenticated.
// (The bare route does not: it is the framework's ceiling and returns the JSON as a constant.)
import { rmSync } from 'node:fs';
import {
  activityReport,
  createSqliteActivityStore,
  createSqliteSessionStore,
  openServer2Database,
} from '@jwt-handoff/server2';
import { tempDir } from '@jwt-handoff/testkit';

const TIMEOUTS = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };

/**
 * server2's own database and stores in a temporary directory; `close()` removes it.
 * @param {string} prefix of the temporary directory's name
 */
export function openActivityDatabase(prefix) {
  const dir = tempDir(prefix);
  const db = openServer2Database(dir);
  const stores = {
    sessions: createSqliteSessionStore(db, TIMEOUTS),
    activity: createSqliteActivityStore(db),
  };

  return {
    db,
    /** What server2's handler answers for `sub` (its own activityReport over its own stores). */
    activityOf: (/** @type {string} */ sub, now = Date.now()) => activityReport(sub, stores, now),
    close() {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
