import type Database from 'better-sqlite3';
import type { ActivityStore } from '../stores.js';

// Only the most recent events per user are ever shown; keeping a few more than that bounds
// the table by users rather than by traffic.
const KEPT_PER_USER = 20;

/** The SQLite {@link ActivityStore}. */
export function createSqliteActivityStore(db: Database.Database): ActivityStore {
  const insert = db.prepare('INSERT INTO handoff_events (sub, at) VALUES (?, ?)');
  const trim = db.prepare(
    `DELETE FROM handoff_events WHERE sub = ? AND rowid NOT IN
       (SELECT rowid FROM handoff_events WHERE sub = ? ORDER BY at DESC LIMIT ${KEPT_PER_USER})`,
  );
  const recent = db.prepare<[string, number], { at: number }>(
    'SELECT at FROM handoff_events WHERE sub = ? ORDER BY at DESC LIMIT ?',
  );
  const purge = db.prepare('DELETE FROM handoff_events WHERE at < ?');
  const record = db.transaction((sub: string, at: number) => {
    insert.run(sub, at);
    trim.run(sub, sub);
  });
  return {
    async recordHandoff(sub, at) {
      record(sub, at);
    },
    async recentHandoffs(sub, limit) {
      return recent.all(sub, limit).map((row) => row.at);
    },
    async purgeBefore(before) {
      return purge.run(before).changes;
    },
  };
}
