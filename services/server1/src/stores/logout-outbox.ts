import type Database from 'better-sqlite3';

/**
 * What a delivery announces: `logout` a sign-out (a `logout+jwt`), `keys-changed` the issuer's
 * key revocation (a `keys-changed+jwt`, docs/design.md section 4).
 */
export type DeliveryKind = 'logout' | 'keys-changed';

/** One sign-out (or key revocation) to tell one client about. */
export interface LogoutDelivery {
  readonly id: number;
  readonly kind: DeliveryKind;
  readonly clientId: string;
  /** The user who signed out; '' for a keys-changed event. */
  readonly sub: string;
  /** The ended session's handle; absent for "sign out everywhere". */
  readonly sid: string | undefined;
  /** For "sign out everywhere": refuse the user's handoff tokens issued at or before (unix s). */
  readonly tokensValidAfter: number | undefined;
  /** For keys-changed: the revoked kids. */
  readonly revokedKids: readonly string[] | undefined;
  readonly attempts: number;
  readonly nextAttemptAt: number;
  /** Given up after this time (ms). */
  readonly expiresAt: number;
  readonly createdAt: number;
}

/** What a new delivery is made of; `kind` defaults to 'logout'. */
export type NewLogoutDelivery = Pick<LogoutDelivery, 'clientId' | 'sub' | 'sid' | 'tokensValidAfter'> &
  Partial<Pick<LogoutDelivery, 'kind' | 'revokedKids'>>;

/** A keys-changed delivery for each client: the issuer revoked `kids`. */
export function keysChangedDeliveries(
  clientIds: readonly string[],
  kids: readonly string[],
): NewLogoutDelivery[] {
  return clientIds.map((clientId) => ({
    kind: 'keys-changed',
    clientId,
    sub: '',
    sid: undefined,
    tokensValidAfter: undefined,
    revokedKids: kids,
  }));
}

/**
 * The durable queue of back-channel logout deliveries. A sign-out is written here in the same
 * database as the session it ends, so neither a down client nor a server1 restart loses it.
 */
export interface LogoutOutbox {
  enqueue(deliveries: readonly NewLogoutDelivery[], now: number, maxAgeMs: number): Promise<void>;
  /**
   * Claims up to `limit` deliveries whose next attempt is due, oldest first: each is leased to
   * the caller until `now + leaseMs`, and nobody else claims it before the lease ends or the
   * delivery is settled ({@link delivered}, {@link retryLater}). A replica that dies holding a
   * lease delays that delivery by the lease, and loses nothing.
   */
  claimDue(now: number, limit: number, leaseMs: number): Promise<LogoutDelivery[]>;
  /** Gives claimed deliveries back unattempted: anyone may claim them again at once. */
  release(ids: readonly number[]): Promise<void>;
  /** The client acknowledged it: forget it. */
  delivered(id: number): Promise<void>;
  /** Another attempt failed: try again at `nextAttemptAt`. */
  retryLater(id: number, nextAttemptAt: number, error: string): Promise<void>;
  /** Drops deliveries past their expiry; returns them, for the log. */
  dropExpired(now: number): Promise<LogoutDelivery[]>;
  /** How many deliveries wait (for /metrics and /healthz). */
  depth(): Promise<number>;
  /** When the next delivery is due and not leased (ms), or undefined when the outbox is empty. */
  nextDueAt(): Promise<number | undefined>;
}

export interface OutboxRow {
  id: number;
  kind: string;
  revoked_kids: string | null;
  client_id: string;
  sub: string;
  sid: string | null;
  tokens_valid_after: number | null;
  attempts: number;
  next_attempt_at: number;
  expires_at: number;
  created_at: number;
}

/** The SQLite {@link LogoutOutbox}. */
export function createSqliteLogoutOutbox(db: Database.Database): LogoutOutbox {
  const insert = db.prepare(
    `INSERT INTO logout_outbox (kind, client_id, sub, sid, tokens_valid_after, revoked_kids, next_attempt_at, expires_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertAll = db.transaction(
    (deliveries: readonly NewLogoutDelivery[], now: number, maxAgeMs: number) => {
      for (const d of deliveries) {
        insert.run(
          d.kind ?? 'logout',
          d.clientId,
          d.sub,
          d.sid ?? null,
          d.tokensValidAfter ?? null,
          d.revokedKids ? JSON.stringify(d.revokedKids) : null,
          now,
          now + maxAgeMs,
          now,
        );
      }
    },
  );
  const claim = db.prepare<{ now: number; limit: number; leaseUntil: number }, OutboxRow>(
    `UPDATE logout_outbox SET lease_until = @leaseUntil WHERE id IN (
       SELECT id FROM logout_outbox
       WHERE next_attempt_at <= @now AND (lease_until IS NULL OR lease_until <= @now)
       ORDER BY next_attempt_at, id LIMIT @limit)
     RETURNING *`,
  );
  const remove = db.prepare('DELETE FROM logout_outbox WHERE id = ?');
  const release = db.prepare('UPDATE logout_outbox SET lease_until = NULL WHERE id = ?');
  const releaseAll = db.transaction((ids: readonly number[]) => {
    for (const id of ids) release.run(id);
  });
  const retry = db.prepare(
    'UPDATE logout_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, lease_until = NULL WHERE id = ?',
  );
  const expired = db.prepare<{ now: number }, OutboxRow>(
    // A delivery in flight is left to its attempt; it is dropped once settled.
    'DELETE FROM logout_outbox WHERE expires_at <= @now AND (lease_until IS NULL OR lease_until <= @now) RETURNING *',
  );
  const depth = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM logout_outbox');
  const nextDue = db.prepare<[], { at: number | null }>(
    'SELECT min(max(next_attempt_at, coalesce(lease_until, 0))) AS at FROM logout_outbox',
  );

  return {
    async enqueue(deliveries, now, maxAgeMs) {
      insertAll(deliveries, now, maxAgeMs);
    },
    async claimDue(now, limit, leaseMs) {
      return claim
        .all({ now, limit, leaseUntil: now + leaseMs })
        .map(toDelivery)
        .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.id - b.id);
    },
    async release(ids) {
      releaseAll(ids);
    },
    async delivered(id) {
      remove.run(id);
    },
    async retryLater(id, nextAttemptAt, error) {
      retry.run(nextAttemptAt, error.slice(0, 500), id);
    },
    async dropExpired(now) {
      return expired.all({ now }).map(toDelivery);
    },
    async depth() {
      return depth.get()?.n ?? 0;
    },
    async nextDueAt() {
      return nextDue.get()?.at ?? undefined;
    },
  };
}

/** A stored row as a {@link LogoutDelivery}. */
export function toDelivery(row: OutboxRow): LogoutDelivery {
  return {
    id: row.id,
    kind: row.kind === 'keys-changed' ? 'keys-changed' : 'logout',
    clientId: row.client_id,
    sub: row.sub,
    sid: row.sid ?? undefined,
    tokensValidAfter: row.tokens_valid_after ?? undefined,
    revokedKids: row.revoked_kids === null ? undefined : (JSON.parse(row.revoked_kids) as string[]),
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
  };
}
