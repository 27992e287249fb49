import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** A migration: SQL run once, in order; its position in the list is its schema version. */
export type Migration = string;

/**
 * Opens (creating if needed) `fileName` in `dataDir` and brings its schema up to date. The data
 * directory is made private to the service's user (0700) and the file 0600, because it holds
 * password hashes, session hashes and, on server1, private keys.
 */
export function openDatabase(
  dataDir: string,
  fileName: string,
  migrations: readonly Migration[],
): Database.Database {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, fileName);
  const db = new Database(file);
  chmodSync(file, 0o600);
  // WAL lets readers run during a write; NORMAL is durable across a process crash, which is the
  // failure we plan for (a power cut may lose the last transactions, never corrupt the file).
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrations);
  return db;
}

function migrate(db: Database.Database, migrations: readonly Migration[]): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(
      `database schema version ${current} is newer than this build knows (${migrations.length})`,
    );
  }
  const apply = db.transaction(() => {
    for (let version = current; version < migrations.length; version++) {
      db.exec(migrations[version] as string);
    }
    db.pragma(`user_version = ${migrations.length}`);
  });
  apply();
}
