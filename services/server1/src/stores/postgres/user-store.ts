import { toUser, type User, type UserRow, type UserStore } from '../user-store.js';
import type { Queryable } from './database.js';

/** The PostgreSQL {@link UserStore}. Usernames match whatever their case, as in SQLite. */
export function createPostgresUserStore(db: Queryable): UserStore {
  const byUsername = async (username: string) =>
    toUser(
      (await db.query<UserRow>('SELECT * FROM users WHERE lower(username) = lower($1)', [username])).rows[0],
    );
  return {
    findByUsername: byUsername,
    async findById(id) {
      return toUser((await db.query<UserRow>('SELECT * FROM users WHERE id = $1', [id])).rows[0]);
    },
    async upsert(user) {
      const { rows } = await db.query<UserRow>(
        `INSERT INTO users (id, username, name, email, password_hash, tokens_valid_after, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT ((lower(username))) DO UPDATE SET name = excluded.name, email = excluded.email,
           password_hash = excluded.password_hash
         RETURNING *`,
        [
          user.id,
          user.username,
          user.name,
          user.email,
          user.passwordHash,
          user.tokensValidAfter,
          user.createdAt,
        ],
      );
      return toUser(rows[0]) as User;
    },
    async setTokensValidAfter(id, at) {
      await db.query('UPDATE users SET tokens_valid_after = $1 WHERE id = $2', [at, id]);
    },
    async replacePasswordHash(id, previous, next) {
      const result = await db.query(
        'UPDATE users SET password_hash = $1 WHERE id = $2 AND password_hash = $3',
        [next, id, previous],
      );
      return result.rowCount === 1;
    },
  };
}
