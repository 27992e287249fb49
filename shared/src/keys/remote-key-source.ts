import {
  createJwksClient,
  JWKS_CLIENT_DEFAULTS,
  type JwksClient,
  type JwksClientOptions,
} from './jwks-client.js';

/**
 * Options of {@link createRemoteKeySource}: those of {@link JwksClientOptions}, every duration in
 * milliseconds. The original five keep their names and defaults: `url`, `timeoutMs` (5000),
 * `cooldownMs` (30000), `cacheMaxAgeMs` (300000) and `maxResponseBytes` (65536).
 */
export interface RemoteKeySourceOptions extends JwksClientOptions {
  /** The issuer's JWKS document, fetched over HTTP(S). */
  url: URL | string;
}

/** Defaults for {@link RemoteKeySourceOptions}, with units in the names: {@link JWKS_CLIENT_DEFAULTS}. */
export const REMOTE_KEY_SOURCE_DEFAULTS: typeof JWKS_CLIENT_DEFAULTS = JWKS_CLIENT_DEFAULTS;

/**
 * The issuer's public keys, fetched from its JWKS URL and cached: now a {@link createJwksClient}.
 * Any failure to obtain keys surfaces as a KeySourceUnavailableError, which the verifier reports
 * as `jwks_unavailable`. Background refresh runs once `start()` is called (or with `autoStart`);
 * without it, keys are refreshed when a verification finds them due.
 */
export function createRemoteKeySource(options: RemoteKeySourceOptions): JwksClient {
  return createJwksClient(options);
}
