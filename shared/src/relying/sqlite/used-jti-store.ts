import type Database from 'better-sqlite3';
import type { UsedJtiStore } from '../stores.js';

/**
 * The SQLite replay store: on disk, so a token captured before a restart is still refused after
 * it. One statement decides, so two concurrent presentations of a token cannot both win.
 */
export function createSqliteUsedJtiStore(db: Database.Database, now: () => number = Date.now): UsedJtiStore {
  // Inserts, or takes over a row whose token has expired; `changes` is 0 only for a live row.
  const mark = db.prepare(
    `INSERT INTO used_jtis (iss, jti, expires_at) VALUES (@iss, @jti, @expiresAt)
     ON CONFLICT (iss, jti) DO UPDATE SET expires_at = excluded.expires_at
     WHERE used_jtis.expires_at <= @nowSec`,
  );
  const purge = db.prepare('DELETE FROM used_jtis WHERE expires_at <= ?');
  const count = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM used_jtis');
  return {
    async markUsed(iss, jti, expiresAtSec) {
      return mark.run({ iss, jti, expiresAt: expiresAtSec, nowSec: Math.floor(now() / 1000) }).changes === 1;
    },
    async purgeExpired(at) {
      return purge.run(Math.floor(at / 1000)).changes;
    },
    async count() {
      return count.get()?.n ?? 0;
    },
  };
}
