import type Database from 'better-sqlite3';

/** A user account of server1. `id` is opaque and stable: it becomes the `sub` of tokens. */
export interface User {
  readonly id: string;
  readonly username: string;
  readonly name: string;
  readonly email: string;
  readonly passwordHash: string;
  /** Tokens issued before this time (ms) are revoked; null when never set. */
  readonly tokensValidAfter: number | null;
  readonly createdAt: number;
}

/** Where users live. Async so that a PostgreSQL implementation fits the same shape. */
export interface UserStore {
  findByUsername(username: string): Promise<User | undefined>;
  findById(id: string): Promise<User | undefined>;
  /** Creates the user, or updates name, email and password of the one with that username. */
  upsert(user: User): Promise<User>;
  /** Revokes every token of the user issued before `at` (ms), the "sign out everywhere" rule. */
  setTokensValidAfter(id: string, at: number): Promise<void>;
  /**
   * Replaces the user's password hash with `next` if it is still `previous` (a rehash with
   * stronger parameters must not undo a password change made meanwhile). True when replaced.
   */
  replacePasswordHash(id: string, previous: string, next: string): Promise<boolean>;
}

/** A `users` row, as both engines return it. */
export interface UserRow {
  id: string;
  username: string;
  name: string;
  email: string;
  password_hash: string;
  tokens_valid_after: number | null;
  created_at: number;
}

/** The SQLite {@link UserStore}. */
export function createSqliteUserStore(db: Database.Database): UserStore {
  const byUsername = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
  const byId = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?');
  const upsert = db.prepare(
    `INSERT INTO users (id, username, name, email, password_hash, tokens_valid_after, created_at)
     VALUES (@id, @username, @name, @email, @passwordHash, @tokensValidAfter, @createdAt)
     ON CONFLICT (username) DO UPDATE SET name = excluded.name, email = excluded.email,
       password_hash = excluded.password_hash`,
  );
  const setTokensValidAfter = db.prepare('UPDATE users SET tokens_valid_after = ? WHERE id = ?');
  const replacePasswordHash = db.prepare(
    'UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?',
  );
  return {
    async setTokensValidAfter(id, at) {
      setTokensValidAfter.run(at, id);
    },
    async replacePasswordHash(id, previous, next) {
      return replacePasswordHash.run(next, id, previous).changes === 1;
    },
    async findByUsername(username) {
      return toUser(byUsername.get(username));
    },
    async findById(id) {
      return toUser(byId.get(id));
    },
    async upsert(user) {
      upsert.run(user);
      return toUser(byUsername.get(user.username)) as User;
    },
  };
}

/** A stored row as a {@link User}; undefined for no row. */
export function toUser(row: UserRow | undefined): User | undefined {
  if (!row) return undefined;
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    email: row.email,
    passwordHash: row.password_hash,
    tokensValidAfter: row.tokens_valid_after,
    createdAt: row.created_at,
  };
}
