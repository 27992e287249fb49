import {
  logTaskFailure,
  mintKeysChangedToken,
  mintLogoutToken,
  type SigningKey,
  trustedCaConnectOptions,
} from '@jwt-handoff/shared';
import type { FastifyBaseLogger } from 'fastify';
import { Agent, request } from 'undici';
import type { ClientRegistration } from '../config.js';
import type { LogoutDelivery, LogoutOutbox } from '../stores/logout-outbox.js';

/** How deliveries are retried, in milliseconds. */
export interface RetryPolicy {
  /** The first retry waits about this long; each further one twice as long. */
  baseDelayMs: number;
  /** No wait is longer than this. */
  maxDelayMs: number;
}

/** Options of {@link createLogoutDispatcher}. */
export interface LogoutDispatcherOptions {
  outbox: LogoutOutbox;
  clients: readonly ClientRegistration[];
  issuer: string;
  signingKey: () => SigningKey;
  retry: RetryPolicy;
  /** Lifetime of each logout (and keys-changed) token, in seconds. */
  tokenTtlSec: number;
  /**
   * Re-reads the signing keys before a keys-changed event is signed. The revocation may have
   * been written by the CLI a moment ago: the event must be signed by the replacement key, never
   * by the key it revokes, and go out only once this server publishes the new key set.
   */
  reloadKeys?: () => Promise<void>;
  /** One POST to a client may take this long. */
  requestTimeoutMs: number;
  /** PEM certificates trusted for https besides Node's default roots (TLS_CA_FILE). Default none. */
  ca?: readonly string[] | undefined;
  /**
   * How long a claimed delivery is this dispatcher's alone (ms): longer than any attempt takes,
   * so that no other replica sends it meanwhile; if this one dies, another sends it after this.
   */
  leaseMs: number;
  now: () => number;
  log: FastifyBaseLogger;
  /** Counts each attempt's outcome (for /metrics). */
  onOutcome?: (outcome: 'delivered' | 'retry' | 'rejected' | 'expired') => void;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
}

/** Works through the logout outbox in the background. */
export interface LogoutDispatcher {
  /** Something was enqueued: deliver now rather than at the next wake-up. */
  kick(): void;
  /** Stops; a delivery in flight is finished, the rest waits in the outbox for the next start. */
  stop(): Promise<void>;
}

const BATCH_SIZE = 20;
// Wake up at least this often to drop expired deliveries even when nothing is due.
const MAX_SLEEP_MS = 5_000;

/**
 * Delivers back-channel logout tokens (docs/design.md section 2) from the durable outbox: each due
 * delivery is POSTed as `logout_token` to the client's back-channel URL; a 2xx removes it, a
 * network error, timeout or 5xx retries it with exponential backoff and full jitter (so clients
 * coming back from an outage are not hit by every server at once), until it expires. A 4xx is
 * the client refusing this token for good, so it is dropped and logged.
 */
export function createLogoutDispatcher(options: LogoutDispatcherOptions): LogoutDispatcher {
  const { outbox, log, now } = options;
  const random = options.random ?? Math.random;
  const clients = new Map(options.clients.map((client) => [client.id, client]));
  const agent = new Agent({
    connect: { timeout: options.requestTimeoutMs, ...trustedCaConnectOptions(options.ca) },
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;

  const deliver = async (delivery: LogoutDelivery): Promise<void> => {
    const client = clients.get(delivery.clientId);
    if (!client?.backchannelLogoutUri) {
      // The client was removed from CLIENTS or lost its URL since: nobody left to tell.
      await outbox.delivered(delivery.id);
      return;
    }
    // Minted per attempt, so a retried delivery never carries a stale token.
    const form = await formOf(delivery, client.id);
    let status: number;
    try {
      const response = await request(client.backchannelLogoutUri, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
      status = response.statusCode;
      await response.body.dump();
    } catch (err) {
      return retryLater(delivery, (err as Error).message);
    }
    if (status >= 200 && status < 300) {
      await outbox.delivered(delivery.id);
      options.onOutcome?.('delivered');
      log.info(
        { client: client.id, kind: delivery.kind, attempts: delivery.attempts + 1 },
        'back-channel logout delivered',
      );
    } else if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      await outbox.delivered(delivery.id);
      options.onOutcome?.('rejected');
      log.error({ client: client.id, status }, 'back-channel logout refused by the client; dropped');
    } else {
      await retryLater(delivery, `HTTP ${status}`);
    }
  };

  // Both kinds go to the client's one back-channel URL, each in its own field.
  const formOf = async (delivery: LogoutDelivery, clientId: string): Promise<Record<string, string>> => {
    if (delivery.kind === 'keys-changed') {
      const keysChangedToken = await mintKeysChangedToken(options.signingKey(), {
        issuer: options.issuer,
        clientId,
        revokedKids: delivery.revokedKids ?? [],
        ttlSec: options.tokenTtlSec,
        now: now(),
      });
      return { keys_changed_token: keysChangedToken };
    }
    const logoutToken = await mintLogoutToken(options.signingKey(), {
      issuer: options.issuer,
      clientId,
      sub: delivery.sub,
      sid: delivery.sid,
      tokensValidAfter: delivery.tokensValidAfter,
      ttlSec: options.tokenTtlSec,
      now: now(),
    });
    return { logout_token: logoutToken };
  };

  const retryLater = async (delivery: LogoutDelivery, error: string) => {
    const ceiling = Math.min(options.retry.maxDelayMs, options.retry.baseDelayMs * 2 ** delivery.attempts);
    const delay = ceiling / 2 + random() * (ceiling / 2);
    await outbox.retryLater(delivery.id, now() + delay, error);
    options.onOutcome?.('retry');
    log.warn(
      { client: delivery.clientId, attempts: delivery.attempts + 1, retryInMs: Math.round(delay), error },
      'back-channel logout not delivered yet',
    );
  };

  const cycle = async () => {
    for (const dropped of await outbox.dropExpired(now())) {
      options.onOutcome?.('expired');
      log.error(
        { client: dropped.clientId, attempts: dropped.attempts },
        'back-channel logout expired undelivered',
      );
    }
    // Each delivery is tried at most once per cycle, and one that throws (no active signing key,
    // a failed outbox write) is backed off like a failed POST. Before, it stayed due and came
    // straight back in the next batch: a loop of microtasks only, which starved the event loop
    // and froze all of server1 (no request answered, not even close()).
    const tried = new Set<number>();
    const dueNow = async () => {
      const claimed = await outbox.claimDue(now(), BATCH_SIZE, options.leaseMs);
      // One already tried in this cycle goes back unattempted, for the next cycle (or replica).
      const again = claimed.filter((delivery) => tried.has(delivery.id)).map((delivery) => delivery.id);
      if (again.length > 0) await outbox.release(again);
      return claimed.filter((delivery) => !tried.has(delivery.id));
    };
    let batch = await dueNow();
    while (batch.length > 0 && !stopped) {
      for (const delivery of batch) tried.add(delivery.id);
      if (options.reloadKeys && batch.some((delivery) => delivery.kind === 'keys-changed'))
        await options.reloadKeys();
      await Promise.all(
        batch.map((delivery) =>
          deliver(delivery).catch(async (err) => {
            log.error({ err }, 'delivery failed');
            await retryLater(delivery, (err as Error).message).catch(() => {});
          }),
        ),
      );
      batch = await dueNow();
    }
    // Stopping: what was claimed but not attempted goes back to the other replicas at once.
    if (batch.length > 0) await outbox.release(batch.map((delivery) => delivery.id));
  };

  const schedule = async () => {
    if (stopped) return;
    let next: number | undefined;
    try {
      next = await outbox.nextDueAt();
    } catch (err) {
      // The outbox cannot be read (its database is down): look again after the longest sleep.
      // Thrown from here, it was an unhandled rejection, which stops the service.
      log.warn({ err }, 'logout outbox unavailable; trying again shortly');
    }
    const wait = next === undefined ? MAX_SLEEP_MS : Math.min(MAX_SLEEP_MS, Math.max(0, next - now()));
    clearTimeout(timer);
    timer = setTimeout(run, wait);
    timer.unref();
  };

  function run(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await cycle();
        } catch (err) {
          logTaskFailure(log, err, 'logout outbox cycle failed');
        }
      } while (again && !stopped);
      await schedule();
    })().finally(() => {
      running = undefined;
    });
  }

  run();
  return {
    kick: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await agent.close();
    },
  };
}
