import { createMemoryLoginThrottle, type LoginThrottle } from '../auth/login-throttle.js';
import type { Server1Config } from '../config.js';
import { openServer1Database } from './database.js';
import { createSqliteKeyStore, type KeyStore } from './key-store.js';
import { createSqliteLogoutOutbox, type LogoutOutbox } from './logout-outbox.js';
import { openPostgres } from './postgres/database.js';
import { createPostgresKeyStore } from './postgres/key-store.js';
import { createPostgresLoginThrottle } from './postgres/login-throttle.js';
import { createPostgresLogoutOutbox } from './postgres/logout-outbox.js';
import { migrate } from './postgres/migrations.js';
import { createPostgresSessionStore } from './postgres/session-store.js';
import { createPostgresUserStore } from './postgres/user-store.js';
import { createSqliteSessionStore, type SessionStore } from './session-store.js';
import { createSqliteUserStore, type UserStore } from './user-store.js';

/** Everything server1 keeps, in one engine chosen by the configuration. */
export interface Server1Stores {
  /** `sqlite` (embedded, one process) or `postgres` (shared by replicas). */
  readonly engine: 'sqlite' | 'postgres';
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly keys: KeyStore;
  readonly outbox: LogoutOutbox;
  readonly loginThrottle: LoginThrottle;
  /** Whether the stores can be reached now (for /readyz). SQLite always can. */
  available(): boolean;
  /** Housekeeping beyond sessions: drops data past keeping (the shared throttle's old failures). */
  purgeExpired(now: number): Promise<void>;
  close(): Promise<void>;
}

/** What {@link openStores} needs beyond the configuration. */
export interface OpenStoresOptions {
  log: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/**
 * Opens server1's stores: PostgreSQL when DATABASE_URL is set (migrated under an advisory lock,
 * so replicas may start together), else SQLite in DATA_DIR with an in-process login throttle.
 */
export async function openStores(config: Server1Config, options: OpenStoresOptions): Promise<Server1Stores> {
  const timeouts = { idleMs: config.sessionIdleTimeoutMs, absoluteMs: config.sessionAbsoluteTimeoutMs };
  const limits = {
    freeFailuresPerPair: config.loginDelayAfterFailures,
    delayBaseMs: config.loginDelayBaseMs,
    maxFailuresPerAccount: config.loginMaxFailuresPerAccount,
    maxFailuresPerAddress: config.loginMaxFailuresPerAddress,
    windowMs: config.loginFailureWindowMs,
  };
  if (config.databaseUrl !== undefined) {
    const db = await openPostgres({
      url: config.databaseUrl,
      poolMax: config.databasePoolMax,
      timeoutMs: config.databaseTimeoutMs,
      log: options.log,
    });
    try {
      await migrate(db);
    } catch (err) {
      await db.close();
      throw err;
    }
    const loginThrottle = createPostgresLoginThrottle(db, limits);
    return {
      engine: 'postgres',
      users: createPostgresUserStore(db),
      sessions: createPostgresSessionStore(db, timeouts),
      keys: createPostgresKeyStore(db),
      outbox: createPostgresLogoutOutbox(db),
      loginThrottle,
      available: () => db.available,
      purgeExpired: async (now) => {
        await loginThrottle.purgeExpired(now);
      },
      close: () => db.close(),
    };
  }
  const db = openServer1Database(config.dataDir);
  return {
    engine: 'sqlite',
    users: createSqliteUserStore(db),
    sessions: createSqliteSessionStore(db, timeouts),
    keys: createSqliteKeyStore(db),
    outbox: createSqliteLogoutOutbox(db),
    loginThrottle: createMemoryLoginThrottle(limits),
    available: () => true,
    purgeExpired: async () => {},
    close: async () => {
      db.close();
    },
  };
}
