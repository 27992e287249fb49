import { weakSecretProblem } from '../config/production-mode.js';
import type { AppErrorRenderer } from '../http/error-handler.js';
import type { MetricsRegistry } from '../http/metrics.js';
import type { JwksClientOptions } from '../keys/jwks-client-options.js';
import type { KeySource } from '../keys/key-source.js';
import { HANDOFF_PROFILE } from '../tokens/handoff-token.js';
import type { VerifiedTokenCacheOptions } from '../tokens/verified-token-cache.js';
import { type SigningAlgorithm, SUPPORTED_ALGORITHMS } from '../tokens/verifier.js';
import { REDIS_KEY_PREFIX_PATTERN } from './redis/redis-relying-stores.js';
import type { RelyingStores } from './stores.js';

/** Options of the `relyingParty` fastify plugin. Durations carry their unit in the name. */
export interface RelyingPartyOptions {
  /** The issuer's public URL: the exact `iss` accepted, and where browsers are sent to sign in. */
  issuer: string;
  /** This service's client id at the issuer: the only `aud` accepted. */
  clientId: string;
  /** This service's public URL; the callback registered at the issuer is `${publicUrl}${prefix}/handoff/callback`. */
  publicUrl: string;
  /** Signs the state cookie: at least 32 characters, shared by every replica of the service. */
  sessionSecret: string;
  /** Where sessions, used jtis, txns, revocations and activity live. Default: SQLite in `dataDir`. */
  stores?: RelyingStores;
  /**
   * Puts the stores in Redis (`redis://…` or `rediss://…`), shared by every replica of the app,
   * instead of SQLite in `dataDir`. Ignored when `stores` is given.
   */
  redisUrl?: string;
  /** The prefix of every Redis key the stores write. Default `jwt-handoff:${clientId}:`. */
  redisKeyPrefix?: string;
  /** The folder of the default SQLite stores; required when neither `stores` nor `redisUrl` is given. */
  dataDir?: string;
  /** The default stores' file name in `dataDir`. Default `relying-party.sqlite`. */
  databaseFile?: string;
  /** Prefix of the plugin's routes, e.g. `/auth` for `/auth/handoff/start`. Default none. */
  prefix?: string;
  /** The page a handoff returns to when it names none (and the fallback for a foreign one). Default `/`. */
  homePath?: string;
  /**
   * Where "sign out of everything" (POST `${prefix}/logout/everything`) lands once the issuer has
   * ended its session too. Default `homePath`.
   */
  signedOutPath?: string;
  /** Cookie names before the `__Host-`/`__Secure-` prefix https adds. Default `s2_session`, `s2_handoff`. */
  cookies?: { session?: string; handoffState?: string };
  /** Shown on error pages. Default the client id. */
  serviceName?: string;
  /** How the plugin's routes answer a refused request. Default: an HTML page for a browser route, JSON otherwise. */
  renderError?: AppErrorRenderer;
  /** Algorithms the verifiers accept. Default `['EdDSA']`. */
  algorithms?: readonly SigningAlgorithm[];
  /** Clock leeway for exp, nbf and iat, in seconds. Default 5. */
  clockToleranceSec?: number;
  /** The longest handoff token lifetime accepted, in seconds. Default and largest 300. */
  handoffMaxLifetimeSec?: number;
  /**
   * Learn the JWKS URL and the authorization endpoint from the issuer's discovery document
   * (`${issuer}/.well-known/jwt-handoff-configuration`), whose `issuer` must equal `issuer`
   * exactly; fetched and refreshed under the `jwks` settings. An explicit `jwksUrl` (or
   * `keySource`) still decides where the keys come from. Default false.
   */
  discovery?: boolean;
  /** The issuer's JWKS. Default: the discovered `jwks_uri` with `discovery`, else `${issuer}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Settings of the JWKS client (timeouts, cache, cool-down, stale window); see JWKS_CLIENT_DEFAULTS. */
  jwks?: Omit<JwksClientOptions, 'url' | 'metrics' | 'metricPrefix' | 'onFetchError' | 'now' | 'autoStart'>;
  /** Where keys come from instead of the JWKS URL (tests; keys held locally). */
  keySource?: KeySource;
  /**
   * PEM certificates the JWKS fetch trusts besides Node's default roots, for an issuer certified
   * by a private CA (server2 reads them from TLS_CA_FILE with `readTrustedCa`). Default none.
   */
  tlsCa?: readonly string[];
  /** Session idle timeout of the default stores, in milliseconds. Default 30 minutes. */
  sessionIdleTimeoutMs?: number;
  /** Session absolute timeout of the default stores, in milliseconds. Default 12 hours. */
  sessionAbsoluteTimeoutMs?: number;
  /** The verified-token cache for service tokens. Default on with 10000 entries; `false` turns it off. */
  verifiedTokenCache?: VerifiedTokenCacheOptions | false;
  /** Where the plugin's metrics are declared. Default a registry of its own (`app.relyingParty.metrics`). */
  metrics?: MetricsRegistry;
  /** Prefix of metric names. Default `relying_party`. */
  metricPrefix?: string;
  /** How often expired rows are purged from stores that need it, in milliseconds. Default 60000. */
  purgeIntervalMs?: number;
  /** How long completed handoffs are kept for activity reports, in milliseconds. Default 30 days. */
  activityRetentionMs?: number;
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
}

/** Defaults of {@link RelyingPartyOptions}, with units. */
export const RELYING_PARTY_DEFAULTS = Object.freeze({
  prefix: '',
  homePath: '/',
  sessionCookie: 's2_session',
  handoffStateCookie: 's2_handoff',
  algorithms: Object.freeze(['EdDSA'] as SigningAlgorithm[]),
  clockToleranceSec: 5,
  handoffMaxLifetimeSec: HANDOFF_PROFILE.maxLifetimeSec,
  sessionIdleTimeoutMs: 30 * 60_000,
  sessionAbsoluteTimeoutMs: 12 * 3_600_000,
  metricPrefix: 'relying_party',
  purgeIntervalMs: 60_000,
  activityRetentionMs: 30 * 24 * 3_600_000,
  /** How long verified claims wait for the browser's completion (docs/design.md section 1). */
  txnTtlMs: 60_000,
});

/** The options once checked and completed with their defaults. */
export interface ResolvedRelyingPartyOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly publicUrl: string;
  readonly sessionSecret: string;
  readonly prefix: string;
  readonly homePath: string;
  readonly sessionCookie: string;
  readonly handoffStateCookie: string;
  readonly serviceName: string;
  readonly algorithms: readonly SigningAlgorithm[];
  readonly clockToleranceSec: number;
  readonly handoffMaxLifetimeSec: number;
  /** Whether endpoints (and, without `jwksUrl`, the keys) come from the discovery document. */
  readonly discovery: boolean;
  /** The JWKS URL; undefined when it is discovered. */
  readonly jwksUrl: string | undefined;
  readonly sessionIdleTimeoutMs: number;
  readonly sessionAbsoluteTimeoutMs: number;
  readonly metricPrefix: string;
  readonly purgeIntervalMs: number;
  readonly activityRetentionMs: number;
  readonly txnTtlMs: number;
  readonly signedOutPath: string;
  /** The prefix of the Redis stores' keys (used only with `redisUrl`). */
  readonly redisKeyPrefix: string;
  /** `${issuer}/handoff/authorize`; with `discovery`, the discovered one is used instead. */
  readonly authorizationEndpoint: string;
  /** `${issuer}/logout/end-session`. */
  readonly endSessionEndpoint: string;
  /** `${publicUrl}${prefix}/logout/complete`: register exactly this at the issuer as a post_logout_redirect_uri. */
  readonly postLogoutRedirectUri: string;
  /** `${publicUrl}${prefix}/handoff/callback`: register exactly this at the issuer. */
  readonly callbackUrl: string;
}

const COOKIE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Checks the options once, at registration, and completes them with their defaults. Every
 * problem is reported at once, each naming its option, so a misconfigured app fails at start
 * rather than letting tokens through later.
 */
export function resolveRelyingPartyOptions(options: RelyingPartyOptions): ResolvedRelyingPartyOptions {
  const problems: string[] = [];
  const url = (name: string, value: unknown): string => {
    if (typeof value === 'string') {
      try {
        const parsed = new URL(value);
        if ((parsed.protocol === 'http:' || parsed.protocol === 'https:') && parsed.pathname === '/')
          return parsed.origin;
        if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return value.replace(/\/+$/, '');
      } catch {
        // reported below
      }
    }
    problems.push(`"${name}" must be an absolute http(s) URL, got ${JSON.stringify(value)}`);
    return '';
  };
  const issuer = url('issuer', options.issuer);
  const publicUrl = url('publicUrl', options.publicUrl);
  const discovery = options.discovery ?? false;
  if (typeof discovery !== 'boolean') problems.push('"discovery" must be true or false');
  const jwksUrl =
    options.jwksUrl !== undefined
      ? url('jwksUrl', options.jwksUrl)
      : discovery
        ? undefined
        : `${issuer}/.well-known/jwks.json`;
  if (typeof options.clientId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(options.clientId))
    problems.push('"clientId" must be 1-64 characters of letters, digits, ".", "_" or "-"');
  const secretProblem =
    typeof options.sessionSecret === 'string' ? weakSecretProblem(options.sessionSecret) : 'must be a string';
  if (secretProblem) problems.push(`"sessionSecret" ${secretProblem}`);
  if (options.redisUrl !== undefined && !isRedisUrl(options.redisUrl))
    problems.push('"redisUrl" must be a redis:// or rediss:// URL');
  if (options.stores === undefined && options.redisUrl === undefined && typeof options.dataDir !== 'string')
    problems.push('"dataDir" is required when neither "stores" nor "redisUrl" is given');
  const redisKeyPrefix = options.redisKeyPrefix ?? `jwt-handoff:${options.clientId}:`;
  if (!REDIS_KEY_PREFIX_PATTERN.test(redisKeyPrefix))
    problems.push('"redisKeyPrefix" must be 1-100 letters, digits, ".", "_", ":" or "-"');
  const prefix = options.prefix ?? RELYING_PARTY_DEFAULTS.prefix;
  if (prefix !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix))
    problems.push(
      `"prefix" must be empty or a path such as /auth without a trailing slash, got ${JSON.stringify(prefix)}`,
    );
  const homePath = options.homePath ?? RELYING_PARTY_DEFAULTS.homePath;
  if (typeof homePath !== 'string' || !homePath.startsWith('/') || homePath.startsWith('//'))
    problems.push(`"homePath" must be a path of this service, got ${JSON.stringify(homePath)}`);
  const signedOutPath = options.signedOutPath ?? homePath;
  if (typeof signedOutPath !== 'string' || !signedOutPath.startsWith('/') || signedOutPath.startsWith('//'))
    problems.push(`"signedOutPath" must be a path of this service, got ${JSON.stringify(signedOutPath)}`);
  const sessionCookie = options.cookies?.session ?? RELYING_PARTY_DEFAULTS.sessionCookie;
  const handoffStateCookie = options.cookies?.handoffState ?? RELYING_PARTY_DEFAULTS.handoffStateCookie;
  for (const [name, value] of [
    ['cookies.session', sessionCookie],
    ['cookies.handoffState', handoffStateCookie],
  ] as const) {
    if (!COOKIE_NAME.test(value)) problems.push(`"${name}" must be 1-64 letters, digits, "_" or "-"`);
  }
  if (sessionCookie === handoffStateCookie)
    problems.push('"cookies.session" and "cookies.handoffState" must differ');
  const algorithms = options.algorithms ?? RELYING_PARTY_DEFAULTS.algorithms;
  if (
    algorithms.length === 0 ||
    algorithms.some((alg) => !(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg))
  )
    problems.push(`"algorithms" must list some of ${SUPPORTED_ALGORITHMS.join(', ')}`);
  const clockToleranceSec = options.clockToleranceSec ?? RELYING_PARTY_DEFAULTS.clockToleranceSec;
  if (!(clockToleranceSec >= 0 && clockToleranceSec <= 60))
    problems.push('"clockToleranceSec" must be between 0 and 60');
  const handoffMaxLifetimeSec = options.handoffMaxLifetimeSec ?? RELYING_PARTY_DEFAULTS.handoffMaxLifetimeSec;
  if (!(handoffMaxLifetimeSec >= 1 && handoffMaxLifetimeSec <= HANDOFF_PROFILE.maxLifetimeSec))
    problems.push(`"handoffMaxLifetimeSec" must be between 1 and ${HANDOFF_PROFILE.maxLifetimeSec}`);
  const positive = (name: keyof RelyingPartyOptions, fallback: number): number => {
    const value = (options[name] as number | undefined) ?? fallback;
    if (!(Number.isFinite(value) && value > 0))
      problems.push(`"${name}" must be a positive number of milliseconds`);
    return value;
  };
  const resolved: ResolvedRelyingPartyOptions = {
    issuer,
    clientId: options.clientId,
    publicUrl,
    sessionSecret: options.sessionSecret,
    prefix,
    homePath,
    signedOutPath,
    sessionCookie,
    handoffStateCookie,
    serviceName: options.serviceName ?? options.clientId,
    algorithms: Object.freeze([...algorithms]),
    clockToleranceSec,
    handoffMaxLifetimeSec,
    discovery,
    jwksUrl,
    sessionIdleTimeoutMs: positive('sessionIdleTimeoutMs', RELYING_PARTY_DEFAULTS.sessionIdleTimeoutMs),
    sessionAbsoluteTimeoutMs: positive(
      'sessionAbsoluteTimeoutMs',
      RELYING_PARTY_DEFAULTS.sessionAbsoluteTimeoutMs,
    ),
    metricPrefix: options.metricPrefix ?? RELYING_PARTY_DEFAULTS.metricPrefix,
    purgeIntervalMs: positive('purgeIntervalMs', RELYING_PARTY_DEFAULTS.purgeIntervalMs),
    activityRetentionMs: positive('activityRetentionMs', RELYING_PARTY_DEFAULTS.activityRetentionMs),
    txnTtlMs: RELYING_PARTY_DEFAULTS.txnTtlMs,
    redisKeyPrefix,
    authorizationEndpoint: `${issuer}/handoff/authorize`,
    endSessionEndpoint: `${issuer}/logout/end-session`,
    postLogoutRedirectUri: `${publicUrl}${prefix}/logout/complete`,
    callbackUrl: `${publicUrl}${prefix}/handoff/callback`,
  };
  if (options.tlsCa !== undefined && options.jwks?.dispatcher !== undefined)
    problems.push('"tlsCa" and "jwks.dispatcher" cannot both be given: set the CA on your dispatcher');
  if (
    options.tlsCa !== undefined &&
    !options.tlsCa.every((pem) => pem.includes('-----BEGIN CERTIFICATE-----'))
  )
    problems.push('"tlsCa" must be a list of PEM certificates');
  if (problems.length > 0) throw new TypeError(`relyingParty options: ${problems.join('; ')}`);
  return Object.freeze(resolved);
}

/** Whether `value` is a redis:// or rediss:// URL (its message never echoes it: it may hold a password). */
export function isRedisUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}
