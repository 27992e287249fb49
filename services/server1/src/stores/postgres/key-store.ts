import {
  KEY_ORDER,
  type KeyRow,
  type KeyStore,
  keyRowValues,
  SIGNING_AT,
  type StoredKey,
  toStoredKey,
} from '../key-store.js';
import type { PostgresDatabase, Queryable } from './database.js';

// The transaction-level advisory lock every change of the key timeline takes ('jwth' 's1ky'),
// so that two replicas (or a replica and the CLI) check and write the timeline one at a time.
const KEY_TIMELINE_LOCK = 0x6a777468_73316b79n.toString();

const insertKey = (client: Queryable, key: StoredKey) =>
  client.query(
    `INSERT INTO signing_keys (kid, alg, private_jwk, public_jwk, created_at, publish_at, sign_from, retire_at, unpublish_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    keyRowValues(key),
  );

/**
 * The PostgreSQL {@link KeyStore}, shared by every replica: each re-reads it every second
 * (keys/rotation-schedule.ts), so a rotation made by one replica or by the CLI reaches all. Private
 * keys sit in the database; access to it is access to the keys.
 */
export function createPostgresKeyStore(db: PostgresDatabase): KeyStore {
  // Serialised by the lock, the check and the write cannot interleave with another replica's:
  // two replicas reaching a scheduled rotation together make one key, the other gets false.
  const underLock = <T>(work: (client: Queryable) => Promise<T>) =>
    db.transaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [KEY_TIMELINE_LOCK]);
      return work(client);
    });

  return {
    async list() {
      return (await db.query<KeyRow>(`SELECT * FROM signing_keys ORDER BY ${KEY_ORDER}`)).rows.map(
        toStoredKey,
      );
    },
    insertFirst(key, now) {
      return underLock(async (client) => {
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*) AS n FROM signing_keys WHERE ${SIGNING_AT}`,
          [now],
        );
        if ((rows[0]?.n ?? 0) > 0) return false;
        await insertKey(client, key);
        return true;
      });
    },
    rotate(next, retiring, now) {
      return underLock(async (client) => {
        const { rows } = await client.query<{ n: number }>(
          'SELECT count(*) AS n FROM signing_keys WHERE sign_from > $1',
          [now],
        );
        if ((rows[0]?.n ?? 0) > 0) return false;
        await insertKey(client, next);
        for (const key of retiring) {
          await client.query('UPDATE signing_keys SET retire_at = $1, unpublish_at = $2 WHERE kid = $3', [
            key.retireAt,
            key.unpublishAt,
            key.kid,
          ]);
        }
        return true;
      });
    },
    // The same steps as the SQLite store's revoke, in one transaction under the timeline lock.
    revoke(kid, now, changes) {
      return underLock(async (client) => {
        const { rows } = await client.query<{ kid: string }>(
          `SELECT kid FROM signing_keys
           WHERE kid = $1 AND publish_at <= $2 AND (unpublish_at IS NULL OR unpublish_at > $2)`,
          [kid, now],
        );
        if (rows.length === 0) return false;
        if (changes.promote !== undefined) {
          await client.query(
            'UPDATE signing_keys SET publish_at = LEAST(publish_at, $1), sign_from = $1 WHERE kid = $2',
            [now, changes.promote],
          );
        }
        if (changes.insert) await insertKey(client, changes.insert);
        for (const keep of changes.keepSigning ?? []) {
          await client.query('UPDATE signing_keys SET retire_at = NULL, unpublish_at = NULL WHERE kid = $1', [
            keep,
          ]);
        }
        await client.query('UPDATE signing_keys SET retire_at = $1, unpublish_at = $1 WHERE kid = $2', [
          now,
          kid,
        ]);
        return true;
      });
    },
    async deleteDropped(now) {
      const result = await db.query(
        'DELETE FROM signing_keys WHERE unpublish_at IS NOT NULL AND unpublish_at <= $1',
        [now],
      );
      return result.rowCount ?? 0;
    },
  };
}
