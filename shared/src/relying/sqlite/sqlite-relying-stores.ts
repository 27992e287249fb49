import type { SessionTimeouts } from '../../http/session-cookies.js';
import type { RelyingStores } from '../stores.js';
import { createSqliteActivityStore } from './activity-store.js';
import { openRelyingDatabase } from './database.js';
import { createSqliteRevocationStore } from './revocation-store.js';
import { createSqliteSessionStore } from './session-store.js';
import { createSqliteTxnStore } from './txn-store.js';
import { createSqliteUsedJtiStore } from './used-jti-store.js';

/** Options of {@link createSqliteRelyingStores}. */
export interface SqliteRelyingStoresOptions {
  /** The folder that holds the database (created 0700 when missing). */
  dataDir: string;
  /** The database file in `dataDir`. Default `relying-party.sqlite`. */
  fileName?: string;
  /** Idle and absolute session timeouts, in milliseconds. */
  sessionTimeouts: SessionTimeouts;
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
}

/**
 * The default {@link RelyingStores}: one SQLite file on disk, so a restart loses no session and a
 * token captured before it is still refused after it. Serves one process; replicas need a
 * shared store behind the same interfaces.
 */
export function createSqliteRelyingStores(options: SqliteRelyingStoresOptions): RelyingStores {
  const db = openRelyingDatabase(options.dataDir, options.fileName ?? 'relying-party.sqlite');
  return {
    sessions: createSqliteSessionStore(db, options.sessionTimeouts),
    usedJtis: createSqliteUsedJtiStore(db, options.now),
    txns: createSqliteTxnStore(db),
    revocations: createSqliteRevocationStore(db),
    activity: createSqliteActivityStore(db),
    async close() {
      db.close();
    },
  };
}
