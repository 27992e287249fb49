import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Server1Config } from '../config.js';
import { openServer1Database } from '../stores/database.js';
import { createSqliteKeyStore, type KeyStore } from '../stores/key-store.js';
import { createSqliteLogoutOutbox, type LogoutOutbox } from '../stores/logout-outbox.js';
import { openPostgres } from '../stores/postgres/database.js';
import { createPostgresKeyStore } from '../stores/postgres/key-store.js';
import { createPostgresLogoutOutbox } from '../stores/postgres/logout-outbox.js';
import { migrate } from '../stores/postgres/migrations.js';
import { createPostgresUserStore } from '../stores/postgres/user-store.js';
import { createSqliteUserStore, type UserStore } from '../stores/user-store.js';

/** The stores an administration command works on, in the engine server1's configuration names. */
export interface CliStores {
  readonly users: UserStore;
  readonly keys: KeyStore;
  readonly outbox: LogoutOutbox;
  close(): Promise<void>;
}

/**
 * Opens server1's stores for a command line tool (`npm run keys`, `npm run users`), whether
 * server1 is running or not: PostgreSQL when DATABASE_URL is set, else the SQLite file in
 * DATA_DIR. Undefined, with `reason` saying why, when DATA_DIR holds no server1 database: a
 * mistyped DATA_DIR must not get a fresh database that looks like the server's.
 */
export async function openCliStores(
  config: Server1Config,
): Promise<{ stores: CliStores } | { stores: undefined; reason: string }> {
  if (config.databaseUrl !== undefined) {
    const quiet = { warn: () => {}, info: () => {} };
    const db = await openPostgres({
      url: config.databaseUrl,
      poolMax: 2,
      timeoutMs: config.databaseTimeoutMs,
      log: quiet,
    });
    try {
      // The schema is the running servers' (same build); migrating is safe beside them.
      await migrate(db);
    } catch (err) {
      await db.close();
      throw err;
    }
    return {
      stores: {
        users: createPostgresUserStore(db),
        keys: createPostgresKeyStore(db),
        outbox: createPostgresLogoutOutbox(db),
        close: () => db.close(),
      },
    };
  }
  if (!existsSync(join(config.dataDir, 'server1.sqlite'))) {
    return {
      stores: undefined,
      reason: `no server1 database in ${config.dataDir} (check DATA_DIR, or start server1 once)`,
    };
  }
  const db = openServer1Database(config.dataDir);
  return {
    stores: {
      users: createSqliteUserStore(db),
      keys: createSqliteKeyStore(db),
      outbox: createSqliteLogoutOutbox(db),
      close: async () => {
        db.close();
      },
    },
  };
}
