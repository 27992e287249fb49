import type { MetricsRegistry } from '../http/metrics.js';

/** How one fetch of the JWKS ended: the `outcome` label of the `<prefix>_fetches_total` counter. */
export type JwksFetchOutcome =
  | 'ok'
  | 'not_modified'
  | 'error'
  | 'timeout'
  | 'invalid'
  | 'too_large'
  | 'redirect';

/** Why a token's kid matched no key: the `reason` label of `<prefix>_unknown_kid_total`. */
export type JwksMissReason = 'no_kid' | 'not_found' | 'cooldown' | 'negative_cache' | 'alg_mismatch';

/** The events a JWKS client counts; every method is a no-op when no registry was given. */
export interface JwksClientMetrics {
  /** A fetch ended with `outcome`. */
  fetched(outcome: JwksFetchOutcome): void;
  /** A key was handed out past its fresh time. */
  staleServe(): void;
  /** A token's kid matched no key, for `reason`. */
  unknownKid(reason: JwksMissReason): void;
}

/** Reads the gauges take from the client's state at scrape time. */
export interface JwksClientGauges {
  /** Seconds since the keys were last fetched or revalidated; -1 before any. */
  cacheAgeSec: () => number;
  /** Usable keys held. */
  kidCount: () => number;
}

/**
 * Registers `<prefix>_fetches_total{outcome}`, `<prefix>_stale_serves_total` (getKey answers
 * given from keys past their fresh time), `<prefix>_unknown_kid_total{reason}`, and the gauges
 * `<prefix>_cache_age_seconds` (-1 before any keys) and `<prefix>_keys`.
 */
export function declareJwksClientMetrics(
  registry: MetricsRegistry | undefined,
  prefix: string,
  read: JwksClientGauges,
): JwksClientMetrics {
  if (!registry) return { fetched: () => {}, staleServe: () => {}, unknownKid: () => {} };
  const fetches = registry.counter(`${prefix}_fetches_total`, 'JWKS fetches, by outcome.');
  const staleServes = registry.counter(
    `${prefix}_stale_serves_total`,
    'Keys handed out past their fresh time because the JWKS could not be refreshed.',
  );
  const unknownKids = registry.counter(
    `${prefix}_unknown_kid_total`,
    'Tokens whose kid (with its alg) matched no published key, by reason.',
  );
  registry.gauge(
    `${prefix}_cache_age_seconds`,
    'Seconds since the keys were last fetched or revalidated; -1 before any.',
    read.cacheAgeSec,
  );
  registry.gauge(`${prefix}_keys`, 'Usable keys held.', read.kidCount);
  return {
    fetched: (outcome) => fetches({ outcome }),
    staleServe: () => staleServes(),
    unknownKid: (reason) => unknownKids({ reason }),
  };
}
