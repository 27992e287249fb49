import type Database from 'better-sqlite3';
import type { JWK } from 'jose';

/**
 * A signing key and its timeline (all times in ms). A key is published (in the JWKS) from
 * `publishAt`, signs from `signFrom` until `retireAt`, and leaves the JWKS at `unpublishAt`.
 */
export interface StoredKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  readonly createdAt: number;
  readonly publishAt: number;
  readonly signFrom: number;
  readonly retireAt: number | null;
  readonly unpublishAt: number | null;
}

/** Where server1's signing keys live. Async so that a PostgreSQL implementation fits. */
export interface KeyStore {
  list(): Promise<StoredKey[]>;
  /**
   * Adds a first key, unless a key already signs at `now`; true when added. Replicas that start
   * together on an empty database each try, and one key results.
   */
  insertFirst(key: StoredKey, now: number): Promise<boolean>;
  /**
   * One rotation, atomically: adds the new key and schedules the end of the keys it replaces,
   * so a crash can never leave two signing keys or none. Resolves false, changing nothing, when
   * another key is already waiting to sign at `now` (two rotations racing: the CLI and the
   * schedule).
   */
  rotate(
    next: StoredKey,
    retiring: ReadonlyArray<{ kid: string; retireAt: number; unpublishAt: number }>,
    now: number,
  ): Promise<boolean>;
  /**
   * An emergency revocation, atomically: `kid` stops signing and leaves the JWKS at `now`, and
   * `changes` keep a key signing (see {@link RevocationChanges}). Resolves false, changing
   * nothing, when `kid` is not a published key at `now`.
   */
  revoke(kid: string, now: number, changes: RevocationChanges): Promise<boolean>;
  /** Deletes keys (private halves included) that left the JWKS before `now`; returns how many. */
  deleteDropped(now: number): Promise<number>;
}

/** What a revocation changes besides the revoked key, so that a key always signs. */
export interface RevocationChanges {
  /** A published key that signs from now on (the revoked one was signing). */
  readonly promote?: string;
  /** A new key that is published and signs from now on (the revoked one was signing). */
  readonly insert?: StoredKey;
  /** Keys whose scheduled end is cancelled (the revoked key was the next one, due to replace them). */
  readonly keepSigning?: readonly string[];
}

/**
 * SQL for "the key signs at $1", keyState's `current` (keys/key-timeline.ts): published, past its
 * sign_from, not retired and not dropped.
 */
export const SIGNING_AT = `publish_at <= $1 AND sign_from <= $1
  AND (retire_at IS NULL OR retire_at > $1) AND (unpublish_at IS NULL OR unpublish_at > $1)`;

/**
 * The order keys are listed in: the newest signing key last (KeyRing signs with it). kid breaks
 * a tie, so every replica reading the same rows picks the same key and serves the same JWKS.
 */
export const KEY_ORDER = 'sign_from, created_at, kid';

export interface KeyRow {
  kid: string;
  alg: string;
  private_jwk: string;
  public_jwk: string;
  created_at: number;
  publish_at: number;
  sign_from: number;
  retire_at: number | null;
  unpublish_at: number | null;
}

/**
 * The SQLite {@link KeyStore}. Private keys sit in the database file, which is created 0600 in a
 * 0700 data directory, like a key file would be.
 */
export function createSqliteKeyStore(db: Database.Database): KeyStore {
  const list = db.prepare<[], KeyRow>(`SELECT * FROM signing_keys ORDER BY ${KEY_ORDER}`);
  const insert = db.prepare(
    `INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk, created_at, publish_at, sign_from, retire_at, unpublish_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const schedule = db.prepare('UPDATE signing_keys SET retire_at = ?, unpublish_at = ? WHERE kid = ?');
  const deleteDropped = db.prepare(
    'DELETE FROM signing_keys WHERE unpublish_at IS NOT NULL AND unpublish_at <= ?',
  );
  const insertKey = (key: StoredKey) => insert.run(...keyRowValues(key));
  const signing = db.prepare<{ now: number }, { n: number }>(
    `SELECT count(*) AS n FROM signing_keys WHERE ${SIGNING_AT.replaceAll('$1', '@now')}`,
  );
  // IMMEDIATE, as for rotate: two processes cannot both find no signing key.
  const insertFirst = db.transaction((key: StoredKey, now: number) => {
    if ((signing.get({ now })?.n ?? 0) > 0) return false;
    insertKey(key);
    return true;
  });
  const pending = db.prepare<[number], { n: number }>(
    'SELECT count(*) AS n FROM signing_keys WHERE sign_from > ?',
  );
  // IMMEDIATE takes the write lock before the check, so two processes cannot both pass it.
  const rotate = db.transaction(
    (
      next: StoredKey,
      retiring: ReadonlyArray<{ kid: string; retireAt: number; unpublishAt: number }>,
      now: number,
    ) => {
      if ((pending.get(now)?.n ?? 0) > 0) return false;
      insertKey(next);
      for (const key of retiring) schedule.run(key.retireAt, key.unpublishAt, key.kid);
      return true;
    },
  );
  const published = db.prepare<[string, number, number], { kid: string }>(
    `SELECT kid FROM signing_keys
     WHERE kid = ? AND publish_at <= ? AND (unpublish_at IS NULL OR unpublish_at > ?)`,
  );
  const drop = db.prepare('UPDATE signing_keys SET retire_at = ?, unpublish_at = ? WHERE kid = ?');
  const promote = db.prepare(
    'UPDATE signing_keys SET publish_at = min(publish_at, ?), sign_from = ? WHERE kid = ?',
  );
  const revoke = db.transaction((kid: string, now: number, changes: RevocationChanges) => {
    if (!published.get(kid, now, now)) return false;
    if (changes.promote !== undefined) promote.run(now, now, changes.promote);
    if (changes.insert) insertKey(changes.insert);
    for (const keep of changes.keepSigning ?? []) schedule.run(null, null, keep);
    drop.run(now, now, kid);
    return true;
  });
  return {
    async revoke(kid, now, changes) {
      return revoke.immediate(kid, now, changes);
    },
    async rotate(next, retiring, now) {
      return rotate.immediate(next, retiring, now);
    },
    async deleteDropped(now) {
      return deleteDropped.run(now).changes;
    },
    async list() {
      return list.all().map(toStoredKey);
    },
    async insertFirst(key, now) {
      return insertFirst.immediate(key, now);
    },
  };
}

/**
 * A key's `signing_keys` columns, in the order of both engines' INSERT: kid, alg, private_jwk,
 * public_jwk, created_at, publish_at, sign_from, retire_at, unpublish_at.
 */
export function keyRowValues(key: StoredKey) {
  return [
    key.kid,
    key.alg,
    JSON.stringify(key.privateJwk),
    JSON.stringify(key.publicJwk),
    key.createdAt,
    key.publishAt,
    key.signFrom,
    key.retireAt,
    key.unpublishAt,
  ];
}

/** A stored row as a {@link StoredKey}. */
export function toStoredKey(row: KeyRow): StoredKey {
  return {
    kid: row.kid,
    alg: row.alg,
    privateJwk: JSON.parse(row.private_jwk) as JWK,
    publicJwk: JSON.parse(row.public_jwk) as JWK,
    createdAt: row.created_at,
    publishAt: row.publish_at,
    signFrom: row.sign_from,
    retireAt: row.retire_at,
    unpublishAt: row.unpublish_at,
  };
}
