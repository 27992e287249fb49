import { createRemoteJWKSet, customFetch, errors, type JWTVerifyGetKey } from 'jose';
import { createBoundedFetch } from './bounded-fetch.js';
import { type KeySource, KeySourceUnavailableError } from './key-source.js';
import { requireKid } from './require-kid.js';

/** Options of {@link createRemoteKeySource}. All durations in milliseconds. */
export interface RemoteKeySourceOptions {
  /** The issuer's JWKS document, fetched over HTTP(S). */
  url: URL;
  /** Abort a fetch after this long. Default 5000. */
  timeoutMs?: number;
  /** After a fetch, an unknown kid triggers no new fetch for this long. Default 30000. */
  cooldownMs?: number;
  /** Keys are refetched on use once older than this. Default 300000 (five minutes). */
  cacheMaxAgeMs?: number;
  /** The largest JWKS document accepted, in bytes. Default 65536. */
  maxResponseBytes?: number;
}

/** Defaults for {@link RemoteKeySourceOptions}, with units in the names. */
export const REMOTE_KEY_SOURCE_DEFAULTS = Object.freeze({
  timeoutMs: 5_000,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 300_000,
  maxResponseBytes: 64 * 1024,
});

/**
 * The issuer's public keys, fetched from its JWKS URL and cached, on top of jose's remote set
 * (timeout, cool-down on an unknown kid, cache max age). Any failure to obtain keys surfaces as
 * a {@link KeySourceUnavailableError}, which the verifier reports as `jwks_unavailable`.
 */
export function createRemoteKeySource(options: RemoteKeySourceOptions): KeySource {
  const settings = { ...REMOTE_KEY_SOURCE_DEFAULTS, ...options };
  const remote = createRemoteJWKSet(settings.url, {
    timeoutDuration: settings.timeoutMs,
    cooldownDuration: settings.cooldownMs,
    cacheMaxAge: settings.cacheMaxAgeMs,
    [customFetch]: createBoundedFetch(settings.maxResponseBytes),
  });
  const kidChecked = requireKid(remote);

  const getKey: JWTVerifyGetKey = async (header, token) => {
    try {
      return await kidChecked(header, token);
    } catch (err) {
      throw asUnavailable(err);
    }
  };

  return {
    getKey,
    isReady: () => remote.jwks() !== undefined,
    refresh: async () => {
      try {
        await remote.reload();
      } catch (err) {
        throw asUnavailable(err);
      }
    },
  };
}

/** jose's verdicts on a token pass through; anything about fetching keys becomes "unavailable". */
function asUnavailable(err: unknown): unknown {
  const isTokenVerdict =
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JOSEAlgNotAllowed ||
    err instanceof errors.JOSENotSupported;
  if (isTokenVerdict || err instanceof KeySourceUnavailableError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new KeySourceUnavailableError(`cannot obtain the issuer's keys: ${detail}`, { cause: err });
}
