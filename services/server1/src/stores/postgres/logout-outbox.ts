import { type LogoutOutbox, type OutboxRow, toDelivery } from '../logout-outbox.js';
import type { PostgresDatabase } from './database.js';

/**
 * The PostgreSQL {@link LogoutOutbox}, shared by every replica's dispatcher. A claim marks the
 * rows with `lease_until` in one statement, and `FOR UPDATE SKIP LOCKED` lets two replicas claim
 * at the same moment without waiting on each other or taking the same row: each delivery is
 * attempted by one replica at a time. A replica that dies mid-delivery leaves its lease to run
 * out, after which another claims the delivery; a lease longer than any attempt means nothing
 * is sent twice unless a replica dies after the client answered and before the row is deleted.
 */
export function createPostgresLogoutOutbox(db: PostgresDatabase): LogoutOutbox {
  return {
    async enqueue(deliveries, now, maxAgeMs) {
      if (deliveries.length === 0) return;
      await db.query(
        `INSERT INTO logout_outbox (kind, client_id, sub, sid, tokens_valid_after, revoked_kids, next_attempt_at, expires_at, created_at)
         SELECT kind, client_id, sub, sid, tokens_valid_after, revoked_kids, $7, $8, $7
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[])
           AS d(kind, client_id, sub, sid, tokens_valid_after, revoked_kids)`,
        [
          deliveries.map((d) => d.kind ?? 'logout'),
          deliveries.map((d) => d.clientId),
          deliveries.map((d) => d.sub),
          deliveries.map((d) => d.sid ?? null),
          deliveries.map((d) => d.tokensValidAfter ?? null),
          deliveries.map((d) => (d.revokedKids ? JSON.stringify(d.revokedKids) : null)),
          now,
          now + maxAgeMs,
        ],
      );
    },
    async claimDue(now, limit, leaseMs) {
      const { rows } = await db.query<OutboxRow>(
        `UPDATE logout_outbox SET lease_until = $3 WHERE id IN (
           SELECT id FROM logout_outbox
           WHERE next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
           ORDER BY next_attempt_at, id LIMIT $2
           FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [now, limit, now + leaseMs],
      );
      return rows.map(toDelivery).sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id);
    },
    async release(ids) {
      if (ids.length === 0) return;
      await db.query('UPDATE logout_outbox SET lease_until = NULL WHERE id = ANY($1::bigint[])', [ids]);
    },
    async delivered(id) {
      await db.query('DELETE FROM logout_outbox WHERE id = $1', [id]);
    },
    async retryLater(id, nextAttemptAt, error) {
      await db.query(
        `UPDATE logout_outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, lease_until = NULL
         WHERE id = $3`,
        [Math.round(nextAttemptAt), error.slice(0, 500), id],
      );
    },
    async dropExpired(now) {
      // A delivery in flight at another replica is left to it; it is dropped once settled.
      const { rows } = await db.query<OutboxRow>(
        'DELETE FROM logout_outbox WHERE expires_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) RETURNING *',
        [now],
      );
      return rows.map(toDelivery);
    },
    async depth() {
      return (await db.query<{ n: number }>('SELECT count(*) AS n FROM logout_outbox')).rows[0]?.n ?? 0;
    },
    async nextDueAt() {
      const { rows } = await db.query<{ at: number | null }>(
        'SELECT min(GREATEST(next_attempt_at, coalesce(lease_until, 0))) AS at FROM logout_outbox',
      );
      return rows[0]?.at ?? undefined;
    },
  };
}
