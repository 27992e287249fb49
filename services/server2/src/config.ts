import {
  EnvReader,
  HANDOFF_PROFILE,
  isRedisUrl,
  type ListenTls,
  metricsTokenProblem,
  ProductionMode,
  REDIS_KEY_PREFIX_PATTERN,
  readListenTls,
  readTrustedCa,
  readTrustProxy,
  type SigningAlgorithm,
  SUPPORTED_ALGORITHMS,
  type TrustProxy,
  weakSecretProblem,
} from '@jwt-handoff/shared';

/** server2's settings, read once from the environment and frozen. */
export interface Server2Config {
  readonly port: number;
  readonly host: string;
  /** The URL browsers use; the handoff callback is `${publicUrl}/handoff/callback`. */
  readonly publicUrl: string;
  /** This service's client id at server1: the only `aud` it accepts. */
  readonly clientId: string;
  /** server1's public URL: the exact `iss` accepted, and where browsers are sent to sign in. */
  readonly issuerUrl: string;
  /**
   * Learn the JWKS URL and the sign-in endpoint from server1's discovery document
   * (ISSUER_DISCOVERY), whose issuer must be ISSUER_URL exactly.
   */
  readonly issuerDiscovery: boolean;
  /**
   * Where the keys are fetched; may differ from the issuer's public URL inside a network. Unset,
   * the issuer's `/.well-known/jwks.json`, or with ISSUER_DISCOVERY the discovered `jwks_uri`
   * (then undefined here).
   */
  readonly jwksUrl: string | undefined;
  /** Holds the SQLite database (sessions, used jtis, pending txns) and, if generated, the secret. */
  readonly dataDir: string;
  /**
   * REDIS_URL: when set, the stores live in this Redis, shared by every replica, instead of
   * SQLite in `dataDir` (docs/deployment.md). Unset by default.
   */
  readonly redisUrl: string | undefined;
  /** REDIS_KEY_PREFIX: put before every key in Redis. Default `jwt-handoff:server2:`. */
  readonly redisKeyPrefix: string;
  /** Signs the s2_handoff cookie; generated and kept in the data directory when unset (not in production). */
  readonly sessionSecret: string | undefined;
  /** Algorithms the verifier accepts. */
  readonly allowedAlgorithms: readonly SigningAlgorithm[];
  /** Clock leeway for exp, nbf and iat, in seconds. */
  readonly clockToleranceSec: number;
  /** The longest handoff token lifetime (exp - iat) accepted, in seconds; at most 300. */
  readonly handoffMaxLifetimeSec: number;
  readonly jwksTimeoutMs: number;
  readonly jwksCooldownMs: number;
  readonly jwksCacheMaxAgeMs: number;
  readonly jwksMaxResponseBytes: number;
  /** After the keys' cache age, how long the last good keys keep serving while server1 is unreachable (ms). */
  readonly jwksMaxStaleMs: number;
  /** A session ends after this long without a request, in milliseconds. */
  readonly sessionIdleTimeoutMs: number;
  /** A session ends this long after sign-in whatever happens, in milliseconds. */
  readonly sessionAbsoluteTimeoutMs: number;
  /** Whose X-Forwarded-For to believe: no one, the nearest n proxies, or the listed ones. */
  readonly trustProxy: TrustProxy;
  /** Listen over TLS with this certificate and key (TLS_CERT_FILE, TLS_KEY_FILE); unset: plain http. */
  readonly tls: ListenTls | undefined;
  /** PEM certificates outbound https calls trust besides Node's default roots (TLS_CA_FILE). */
  readonly tlsCa: readonly string[] | undefined;
  readonly logLevel: string;
  /** Whether verified service tokens are cached until they expire (VERIFIED_TOKEN_CACHE). */
  readonly verifiedTokenCache: boolean;
  /** The most service tokens the cache holds at once (VERIFIED_TOKEN_CACHE_MAX_ENTRIES). */
  readonly verifiedTokenCacheMaxEntries: number;
  /** Opens GET /metrics to `Authorization: Bearer <token>` (METRICS_TOKEN); unset: loopback only. */
  readonly metricsToken: string | undefined;
  /** How recent a sign-in at server1 GET /sensitive demands, in seconds (SENSITIVE_MAX_AGE_SEC). */
  readonly sensitiveMaxAgeSec: number;
}

/** Reads server2's configuration from `env` (docs/design.md section 5); reports every bad value at once. */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Server2Config {
  const read = new EnvReader(env);
  const issuerUrl = read.baseUrl('ISSUER_URL', 'http://localhost:4001');
  const sessionSecret = read.raw('SESSION_SECRET');
  const weakSecret = sessionSecret === undefined ? undefined : weakSecretProblem(sessionSecret);
  if (weakSecret) read.problem('SESSION_SECRET', weakSecret);
  const algorithms = read
    .string('ALLOWED_ALGS', 'EdDSA')
    .split(',')
    .map((alg) => alg.trim());
  for (const alg of algorithms) {
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
      read.problem('ALLOWED_ALGS', `lists "${alg}"; allowed are ${SUPPORTED_ALGORITHMS.join(', ')}`);
    }
  }
  const publicUrl = read.baseUrl('PUBLIC_URL', 'http://localhost:4002');
  const issuerDiscovery = read.boolean('ISSUER_DISCOVERY', false);
  const config: Server2Config = {
    port: read.integer('PORT', 4002, { min: 0, max: 65535 }),
    host: read.string('HOST', '127.0.0.1'),
    publicUrl,
    clientId: read.string('CLIENT_ID', 'server2'),
    issuerUrl,
    issuerDiscovery,
    jwksUrl: jwksUrl(read, issuerUrl, issuerDiscovery),
    dataDir: read.string('DATA_DIR', 'data/server2'),
    redisUrl: redisUrlFrom(read),
    redisKeyPrefix: read.string('REDIS_KEY_PREFIX', 'jwt-handoff:server2:'),
    sessionSecret,
    allowedAlgorithms: Object.freeze(algorithms as SigningAlgorithm[]),
    clockToleranceSec: read.integer('CLOCK_TOLERANCE_SEC', 5, { min: 0, max: 60 }),
    handoffMaxLifetimeSec: read.integer('HANDOFF_MAX_LIFETIME_SEC', HANDOFF_PROFILE.maxLifetimeSec, {
      min: 1,
      max: HANDOFF_PROFILE.maxLifetimeSec,
    }),
    jwksTimeoutMs: read.integer('JWKS_TIMEOUT_MS', 5_000, { min: 100, max: 60_000 }),
    jwksCooldownMs: read.integer('JWKS_COOLDOWN_MS', 30_000, { min: 0 }),
    jwksCacheMaxAgeMs: read.integer('JWKS_CACHE_MAX_AGE_MS', 300_000, { min: 1000 }),
    jwksMaxResponseBytes: read.integer('JWKS_MAX_RESPONSE_BYTES', 64 * 1024, { min: 1024 }),
    jwksMaxStaleMs: read.integer('JWKS_MAX_STALE_MS', 600_000, { min: 0 }),
    sessionIdleTimeoutMs: read.integer('SESSION_IDLE_TIMEOUT_MS', 30 * 60_000, { min: 1000 }),
    sessionAbsoluteTimeoutMs: read.integer('SESSION_ABSOLUTE_TIMEOUT_MS', 12 * 3_600_000, { min: 1000 }),
    trustProxy: readTrustProxy(read),
    tls: readListenTls(read, publicUrl),
    tlsCa: readTrustedCa(read),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    verifiedTokenCache: read.boolean('VERIFIED_TOKEN_CACHE', true),
    verifiedTokenCacheMaxEntries: read.integer('VERIFIED_TOKEN_CACHE_MAX_ENTRIES', 10_000, {
      min: 1,
      max: 1_000_000,
    }),
    metricsToken: metricsTokenFrom(read),
    sensitiveMaxAgeSec: read.integer('SENSITIVE_MAX_AGE_SEC', 300, { min: 0, max: 86_400 }),
  };
  if (!REDIS_KEY_PREFIX_PATTERN.test(config.redisKeyPrefix))
    read.problem('REDIS_KEY_PREFIX', 'must be 1-100 letters, digits, ".", "_", ":" or "-"');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(config.clientId)) {
    read.problem('CLIENT_ID', 'must be 1-64 characters of letters, digits, ".", "_" or "-"');
  }
  checkProduction(read, config);
  read.finish();
  return Object.freeze(config);
}

/**
 * Production mode (NODE_ENV=production; docs/deployment.md): over http, anyone on the path reads
 * the session cookies (PUBLIC_URL), or sends browsers to their own sign-in page (ISSUER_URL), or
 * serves their own keys, so that every token they sign verifies (JWKS_URL). Replicas must share
 * one SESSION_SECRET, so a generated one is refused too.
 */
function checkProduction(read: EnvReader, config: Server2Config): void {
  const production = new ProductionMode(read);
  if (!production.enabled) return;
  production.requireHttps('PUBLIC_URL', config.publicUrl);
  production.requireHttps('ISSUER_URL', config.issuerUrl);
  // Unset, it follows ISSUER_URL, which is already refused if insecure: name it only when set.
  if (config.jwksUrl !== undefined && read.raw('JWKS_URL') !== undefined)
    production.requireHttps('JWKS_URL', config.jwksUrl);
  if (config.sessionSecret === undefined) {
    production.refuse(
      'SESSION_SECRET',
      'must be set in production, the same on every replica (e.g. `openssl rand -base64 32`)',
    );
  }
}

function jwksUrl(read: EnvReader, issuerUrl: string, discovered: boolean): string | undefined {
  const value = read.raw('JWKS_URL');
  if (value === undefined) return discovered ? undefined : `${issuerUrl}/.well-known/jwks.json`;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.href;
  } catch {
    // reported below
  }
  read.problem('JWKS_URL', `must be an absolute http(s) URL, got "${value}"`);
  return `${issuerUrl}/.well-known/jwks.json`;
}

/** METRICS_TOKEN: a bearer token that opens GET /metrics beyond loopback; unset by default. */
function metricsTokenFrom(read: EnvReader): string | undefined {
  const token = read.raw('METRICS_TOKEN');
  const problem = token === undefined ? undefined : metricsTokenProblem(token);
  if (problem) read.problem('METRICS_TOKEN', problem);
  return token;
}

/** REDIS_URL: unset for SQLite; the message never repeats the value, which may hold a password. */
function redisUrlFrom(read: EnvReader): string | undefined {
  const url = read.raw('REDIS_URL');
  if (url !== undefined && !isRedisUrl(url))
    read.problem('REDIS_URL', 'must be a redis:// or rediss:// URL, e.g. redis://localhost:6379');
  return url;
}
