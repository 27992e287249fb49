import { errors, type JWTHeaderParameters, type JWTVerifyGetKey } from 'jose';
import { withoutStackTrace } from '../errors.js';
import { backgroundTimers } from './background-timers.js';
import { BoundedFetchError, fetchBounded } from './bounded-fetch.js';
import { freshForMs } from './cache-control.js';
import {
  declareJwksClientMetrics,
  type JwksFetchOutcome,
  type JwksMissReason,
} from './jwks-client-metrics.js';
import {
  type JwksClientOptions,
  retryDelayMs as nextRetryDelayMs,
  resolveJwksClientOptions,
} from './jwks-client-options.js';
import { InvalidJwksError, importKeySet, type VerificationKey } from './jwks-keys.js';
import { type KeyOrigin, KeyRevokedError, type KeySource, KeySourceUnavailableError } from './key-source.js';

/** A snapshot of a client's state, for tests, benchmarks and debugging. */
export interface JwksClientStats {
  /** Fetches started so far (a redirect chain counts once). */
  readonly fetchCount: number;
  /** When keys were last fetched or revalidated by a 304, by the client's clock in ms; undefined before. */
  readonly lastSuccessAtMs: number | undefined;
  /** Usable keys held. */
  readonly kidCount: number;
  /** Fetches that failed since the last success. */
  readonly consecutiveFailures: number;
  /** Until when the held keys are fresh, in ms; undefined before any keys. */
  readonly freshUntilMs: number | undefined;
  /** Until when the held keys are served at all, in ms; undefined before any keys. */
  readonly staleUntilMs: number | undefined;
}

/** A remote JWKS {@link KeySource} with background refresh, made by {@link createJwksClient}. */
export interface JwksClient extends KeySource {
  /** Begins background operation: prefetches now unless keys are held, then refreshes ahead of expiry. */
  start(): void;
  /** Stops background operation (clears its timers); getKey and refresh() keep working. */
  stop(): void;
  /** stop(), and aborts a fetch in flight; resolves once it has settled. */
  close(): Promise<void>;
  /**
   * Whether a key with this kid is held and still served (not past the stale window), from
   * memory only, never fetching. The verifier's token cache uses it to stop answering for
   * tokens whose key has left the set or can no longer be vouched for.
   */
  hasKid(kid: string): boolean;
  /** The client's counters and timestamps. */
  stats(): JwksClientStats;
  /**
   * Refuses these kids from now on, for good (a keys-changed event from the issuer), and
   * refetches the set at once, past the unknown-kid cool-down. See {@link KeySource.revokeKids}.
   */
  revokeKids(kids: readonly string[]): Promise<void>;
}

/** Most kids a client remembers as revoked; the oldest is forgotten first. */
export const MAX_REVOKED_KIDS = 1_000;

type FetchResult = { readonly ok: true } | { readonly ok: false; readonly error: KeySourceUnavailableError };

/**
 * The issuer's public keys, fetched from its JWKS URL and kept fresh in the background, so that
 * in steady state no verification waits on the network.
 *
 * - A token's kid is looked up in memory; an unknown kid triggers at most one (shared) refetch per
 *   cool-down, and a kid still unknown after it is refused without a fetch for a while, so a flood
 *   of made-up kids costs the issuer one request per cool-down and never delays known kids.
 * - When the endpoint fails, the last good keys keep serving for `maxStaleMs` past their fresh
 *   time while retries back off; after that, getKey throws {@link KeySourceUnavailableError}.
 * - Each key is imported for its own published `alg` and used only with it.
 */
export function createJwksClient(options: JwksClientOptions): JwksClient {
  const settings = resolveJwksClientOptions(options);
  const { url, now } = settings;
  const { setTimer, clearTimer } = backgroundTimers(options);

  let keys: Map<string, VerificationKey> | undefined;
  let etag: string | undefined;
  let fetchedAt = 0;
  let freshMs = 0;
  // The cool-down limits fetches that unknown kids cause; the scheduled refreshes do not count,
  // or a key published just after a refresh would be refused for a whole cool-down.
  let lastUnknownKidFetchAt = Number.NEGATIVE_INFINITY;
  let lastFailureAt = Number.NEGATIVE_INFINITY;
  // Drawn once per failure, so that every caller asking when the next retry is sees one answer.
  let retryDelayMs = 0;
  let lastError: KeySourceUnavailableError | undefined;
  let consecutiveFailures = 0;
  let fetchCount = 0;
  let inflight: Promise<FetchResult> | undefined;
  let abortInflight: AbortController | undefined;
  let started = false;
  let timer: unknown;
  // kid -> time until which it is refused without a fetch. Insertion order is expiry order.
  const unknownKids = new Map<string, number>();
  // Kids the issuer revoked (keys-changed events), in insertion order. Checked before the held
  // keys, so neither a fetch that fails (stale-if-error keeps the last good set, which may still
  // hold the kid) nor a lagging issuer replica that still publishes it can bring it back.
  const revokedKids = new Set<string>();

  const freshUntil = () => fetchedAt + freshMs;
  const staleUntil = () => freshUntil() + settings.maxStaleMs;
  const isUsable = (t: number) => keys !== undefined && t < staleUntil();
  const retryAt = () => (consecutiveFailures === 0 ? Number.NEGATIVE_INFINITY : lastFailureAt + retryDelayMs);
  const refreshDueAt = () => fetchedAt + freshMs * settings.refreshAtRatio;

  const metrics = declareJwksClientMetrics(settings.metrics, settings.metricPrefix, {
    cacheAgeSec: () => (keys ? Math.max(0, (now() - fetchedAt) / 1000) : -1),
    kidCount: () => keys?.size ?? 0,
  });

  /** One fetch at a time: every caller that needs one while it runs shares it. */
  function fetchKeys(): Promise<FetchResult> {
    if (inflight) return inflight;
    fetchCount += 1;
    const controller = new AbortController();
    abortInflight = controller;
    inflight = load(controller.signal).finally(() => {
      inflight = undefined;
      abortInflight = undefined;
      schedule();
    });
    return inflight;
  }

  async function load(signal: AbortSignal): Promise<FetchResult> {
    try {
      const response = await fetchBounded(url, {
        dispatcher: settings.dispatcher,
        timeoutMs: settings.timeoutMs,
        maxResponseBytes: settings.maxResponseBytes,
        maxRedirects: settings.maxRedirects,
        // The ETag describes the set we hold; without keys there is nothing to revalidate.
        headers: keys && etag ? { 'if-none-match': etag } : {},
        signal,
        setTimeout: setTimer,
        clearTimeout: clearTimer,
      });
      let outcome: JwksFetchOutcome;
      if (response.status === 304) {
        if (!keys) throw new InvalidJwksError('a 304 answer while no keys are held');
        // The issuer vouches that the set is unchanged, so the held keys are as good as new.
        outcome = 'not_modified';
      } else if (response.status === 200) {
        keys = await importKeySet(parseJson(response.body), settings.algorithms);
        etag = undefined;
        outcome = 'ok';
      } else {
        throw new BoundedFetchError('error', `the JWKS endpoint answered ${response.status}`);
      }
      etag = singleHeader(response.headers.etag) ?? etag;
      fetchedAt = now();
      freshMs = freshForMs(response.headers['cache-control'], settings);
      consecutiveFailures = 0;
      lastError = undefined;
      metrics.fetched(outcome);
      return { ok: true };
    } catch (err) {
      const outcome: JwksFetchOutcome =
        err instanceof BoundedFetchError
          ? err.outcome
          : err instanceof InvalidJwksError
            ? 'invalid'
            : 'error';
      const detail = err instanceof Error ? err.message : String(err);
      const error = new KeySourceUnavailableError(`cannot obtain the issuer's keys: ${detail}`, {
        cause: err,
      });
      consecutiveFailures += 1;
      lastFailureAt = now();
      retryDelayMs = nextRetryDelayMs(settings, consecutiveFailures);
      lastError = error;
      metrics.fetched(outcome);
      try {
        settings.onFetchError?.(error);
      } catch {
        // A failing log hook must not turn a handled fetch failure into an unhandled rejection.
      }
      return { ok: false, error };
    }
  }

  /** (Re)arms the one background timer: the next refresh, or the next retry after a failure. */
  function schedule(): void {
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    if (!started || inflight) return;
    const t = now();
    const due = consecutiveFailures > 0 ? retryAt() : keys ? refreshDueAt() : t;
    timer = setTimer(
      () => {
        timer = undefined;
        void fetchKeys();
      },
      Math.max(0, due - t),
    );
  }

  /**
   * Without background operation (or when its timer is late), a verification that finds the
   * refresh due starts it, without waiting for it, and within the retry back-off only.
   */
  function refreshIfDue(t: number): void {
    if (inflight || t < refreshDueAt() || t < retryAt()) return;
    void fetchKeys();
  }

  function miss(reason: JwksMissReason, message: string): errors.JWKSNoMatchingKey {
    metrics.unknownKid(reason);
    return withoutStackTrace(() => new errors.JWKSNoMatchingKey(message));
  }

  function unavailable(): KeySourceUnavailableError {
    return lastError ?? new KeySourceUnavailableError("the issuer's keys are not available");
  }

  function answer(found: VerificationKey, alg: string | undefined, t: number): VerificationKey['key'] {
    // A key is only ever used with the algorithm it was published for; a token asking for
    // another (e.g. a key confusion attempt) finds no key rather than a key used differently.
    if (found.alg !== alg) throw miss('alg_mismatch', 'no key with this kid is published for this alg');
    if (t >= freshUntil()) metrics.staleServe();
    return found.key;
  }

  function rememberUnknown(kid: string, t: number): void {
    if (settings.negativeCacheMs <= 0 || settings.maxNegativeCacheEntries <= 0) return;
    unknownKids.delete(kid);
    for (const [oldest, until] of unknownKids) {
      if (until > t && unknownKids.size < settings.maxNegativeCacheEntries) break;
      unknownKids.delete(oldest);
    }
    unknownKids.set(kid, t + settings.negativeCacheMs);
  }

  /** Set by a traced lookup that waited for a fetch of the key set; undefined when untraced. */
  type FetchNote = { fetched: boolean };

  async function lookUpUnknown(
    kid: string,
    alg: string | undefined,
    note: FetchNote | undefined,
  ): Promise<VerificationKey['key']> {
    const t = now();
    const refusedUntil = unknownKids.get(kid);
    if (refusedUntil !== undefined) {
      if (t < refusedUntil) throw miss('negative_cache', 'no key with this kid (recently looked up)');
      unknownKids.delete(kid);
    }
    let result: FetchResult;
    if (inflight) result = await inflight;
    else if (t - lastUnknownKidFetchAt < settings.cooldownMs) throw miss('cooldown', 'no key with this kid');
    else {
      lastUnknownKidFetchAt = t;
      result = await fetchKeys();
    }
    if (note) note.fetched = true;
    const after = now();
    if (!isUsable(after) || !keys) throw unavailable();
    // Revoked while this lookup waited for the fetch.
    if (revokedKids.has(kid)) throw withoutStackTrace(() => new KeyRevokedError(kid));
    const found = keys.get(kid);
    if (found) return answer(found, alg, after);
    // Only a successful fetch proves the kid is not published; a failed one proves nothing.
    if (result.ok) rememberUnknown(kid, after);
    throw miss('not_found', 'no key with this kid');
  }

  async function lookUp(
    header: JWTHeaderParameters,
    note: FetchNote | undefined,
  ): Promise<VerificationKey['key']> {
    const { kid, alg } = header;
    // Every token we accept names its key; picking "the only key" for a kid-less token would
    // let a token choose its key by omission.
    if (typeof kid !== 'string' || kid.length === 0) throw miss('no_kid', 'the token header names no kid');
    let t = now();
    if (isUsable(t)) {
      refreshIfDue(t);
    } else {
      // No keys to serve (never loaded, or past the stale window): wait for a shared fetch,
      // unless the last one failed so recently that another would only add load on the issuer.
      if (!inflight && t < retryAt()) throw unavailable();
      await fetchKeys();
      if (note) note.fetched = true;
      t = now();
      if (!isUsable(t)) throw unavailable();
    }
    if (revokedKids.has(kid)) throw withoutStackTrace(() => new KeyRevokedError(kid));
    // Known kids are answered from memory here, whatever fetch may be in flight.
    const found = keys?.get(kid);
    if (found) return answer(found, alg, t);
    return lookUpUnknown(kid, alg, note);
  }

  const getKey: JWTVerifyGetKey = (header) => lookUp(header, undefined);

  const client: JwksClient = {
    getKey,
    async getKeyWithOrigin(header) {
      const note: FetchNote = { fetched: false };
      const key = await lookUp(header, note);
      const origin: KeyOrigin = {
        kid: header.kid as string,
        alg: header.alg ?? '',
        source: url.href,
        fetchedAtMs: fetchedAt,
        fetched: note.fetched,
      };
      return { key, origin };
    },
    isReady: () => isUsable(now()),
    hasKid: (kid) => isUsable(now()) && keys?.has(kid) === true && !revokedKids.has(kid),
    async revokeKids(kids) {
      for (const kid of kids) {
        revokedKids.delete(kid);
        revokedKids.add(kid);
        unknownKids.delete(kid);
      }
      while (revokedKids.size > MAX_REVOKED_KIDS)
        revokedKids.delete(revokedKids.values().next().value as string);
      // The replacement key may be new: forget what the negative cache learnt before the event,
      // and fetch afresh. A fetch already in flight may have started before the issuer changed
      // its keys, so it is waited for and followed by one of our own. Neither counts against the
      // unknown-kid cool-down, which limits fetches that tokens cause, not the issuer's events.
      unknownKids.clear();
      if (inflight) await inflight;
      await fetchKeys();
    },
    async refresh() {
      const result = await fetchKeys();
      if (!result.ok) throw result.error;
    },
    start() {
      if (started) return;
      started = true;
      if (!inflight && !isUsable(now())) void fetchKeys();
      else schedule();
    },
    stop() {
      started = false;
      schedule();
    },
    async close() {
      client.stop();
      const pending = inflight;
      abortInflight?.abort(new Error('the JWKS client was closed'));
      if (pending) await pending;
    },
    stats: () => ({
      fetchCount,
      lastSuccessAtMs: keys ? fetchedAt : undefined,
      kidCount: keys?.size ?? 0,
      consecutiveFailures,
      freshUntilMs: keys ? freshUntil() : undefined,
      staleUntilMs: keys ? staleUntil() : undefined,
    }),
  };
  if (settings.autoStart) client.start();
  return client;
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidJwksError('the body is not JSON', { cause: err });
  }
}
