import { createHash } from 'node:crypto';
import {
  type LoginThrottle,
  type LoginThrottleLimits,
  refusal,
  throttleKeys,
  throttleWaitMs,
} from '../../auth/login-throttle.js';
import type { PostgresDatabase } from './database.js';

/** The advisory lock id of a throttle key: 64 bits of its SHA-256, as a decimal bigint. */
function lockOf(key: string): string {
  return createHash('sha256').update(`login-throttle:${key}`).digest().readBigInt64BE(0).toString();
}

/** A {@link LoginThrottle} that also drops failures past the window (run by the purge timer). */
export interface PostgresLoginThrottle extends LoginThrottle {
  purgeExpired(now: number): Promise<number>;
}

/**
 * The {@link LoginThrottle} in PostgreSQL, counted across every replica. A reservation is one
 * transaction that first takes an advisory lock on its account and its address (in a fixed
 * order, so two never deadlock), then reads the failures in the window, checks the limits and counts the
 * attempt. Two attempts on the same account or address, at any replicas, run that step one after
 * the other, never both on the same count: a burst of N concurrent guesses gets no more tries than
 * the limit allows.
 */
export function createPostgresLoginThrottle(
  db: PostgresDatabase,
  limits: LoginThrottleLimits,
): PostgresLoginThrottle {
  // Removes one counted attempt of `key` made at `at`, as the memory throttle does.
  const removeOne = `DELETE FROM login_failures WHERE id = (
    SELECT id FROM login_failures WHERE key = $1 AND at = $2 ORDER BY id DESC LIMIT 1)`;

  return {
    reserve(username, address, now) {
      const keys = throttleKeys(username, address);
      const all = [keys.account, keys.address, keys.pair];
      return db.transaction(async (client) => {
        // The pair's rows change only with both of these held, so two locks cover all three keys.
        for (const lock of [lockOf(keys.account), lockOf(keys.address)].sort()) {
          await client.query('SELECT pg_advisory_xact_lock($1)', [lock]);
        }
        const { rows } = await client.query<{ key: string; at: number }>(
          'SELECT key, at FROM login_failures WHERE key = ANY($1::text[]) AND at > $2 ORDER BY at, id',
          [all, now - limits.windowMs],
        );
        const timesOf = (key: string) => rows.filter((row) => row.key === key).map((row) => row.at);
        const waitMs = throttleWaitMs(
          limits,
          { account: timesOf(keys.account), address: timesOf(keys.address), pair: timesOf(keys.pair) },
          now,
        );
        if (waitMs > 0) return refusal(waitMs);
        await client.query(
          'INSERT INTO login_failures (key, at) SELECT key, $2 FROM unnest($1::text[]) AS key',
          [all, now],
        );
        return { ok: true as const, attempt: { username, address, at: now } };
      });
    },
    async refund(attempt) {
      const keys = throttleKeys(attempt.username, attempt.address);
      for (const key of [keys.account, keys.address, keys.pair]) await db.query(removeOne, [key, attempt.at]);
    },
    async succeed(attempt) {
      const keys = throttleKeys(attempt.username, attempt.address);
      await db.query(removeOne, [keys.address, attempt.at]);
      await db.query('DELETE FROM login_failures WHERE key = ANY($1::text[])', [[keys.account, keys.pair]]);
    },
    async purgeExpired(now) {
      const result = await db.query('DELETE FROM login_failures WHERE at <= $1', [now - limits.windowMs]);
      return result.rowCount ?? 0;
    },
  };
}
