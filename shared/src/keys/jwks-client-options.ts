import type { Dispatcher } from 'undici';
import type { MetricsRegistry } from '../http/metrics.js';
import { type SigningAlgorithm, SUPPORTED_ALGORITHMS } from '../tokens/verifier.js';
import type { KeySourceUnavailableError } from './key-source.js';

/** Options of {@link createJwksClient}. Every duration is in milliseconds. */
export interface JwksClientOptions {
  /** The issuer's JWKS document, an http(s) URL. Redirects are followed only within its origin. */
  url: URL | string;
  /** The undici dispatcher requests go through (a MockAgent in tests). Default: undici's global one. */
  dispatcher?: Dispatcher;
  /** Deadline of one fetch, redirects and body included. Default 5000. */
  timeoutMs?: number;
  /** The largest JWKS document accepted, in bytes. Default 65536 (64 KiB). */
  maxResponseBytes?: number;
  /** Same-origin redirects followed per fetch; a redirect to another origin is never followed. Default 3. */
  maxRedirects?: number;
  /** Algorithms a published key may be used with, each key only with its own `alg`. Default EdDSA, ES256. */
  algorithms?: readonly SigningAlgorithm[];
  /** Longest time fetched keys count as fresh; a shorter Cache-Control max-age wins. Default 300000. */
  cacheMaxAgeMs?: number;
  /**
   * Shortest time fetched keys count as fresh, whatever the response's max-age (or no-cache)
   * says, so that `max-age=0` cannot turn into a fetch loop. `cacheMaxAgeMs` still caps it.
   * Default 1000: a verifier must never cache longer than the issuer says, because the issuer's
   * rotation timeline (publish lead) is built on its max-age.
   */
  minCacheAgeMs?: number;
  /** The background refresh runs once this fraction of the fresh time has passed. Default 0.8. */
  refreshAtRatio?: number;
  /**
   * How long after they stopped being fresh the last good keys keep serving while the endpoint
   * fails (stale-if-error). Past it the source is unavailable (`jwks_unavailable`). Default
   * 600000 (ten minutes).
   */
  maxStaleMs?: number;
  /** First delay before retrying a failed fetch; it doubles on each further failure. Default 1000. */
  retryInitialDelayMs?: number;
  /** Cap of the retry delay. Default 30000. */
  retryMaxDelayMs?: number;
  /**
   * Each retry delay is shortened by a random part of up to this fraction of it, so that the
   * verifiers of a fleet, which all saw the issuer fail at the same moment, do not all come back
   * to it at the same moments either. In [0, 1); 0 turns jitter off. Default 0.5.
   */
  retryJitterRatio?: number;
  /**
   * After a fetch that an unknown kid caused, further unknown kids trigger no new fetch for this
   * long: at most one such refetch per cool-down, however many arrive. Scheduled refreshes do
   * not start a cool-down. Default 30000.
   */
  cooldownMs?: number;
  /** A kid still unknown after a successful refetch is refused without a fetch for this long. Default: `cooldownMs`. */
  negativeCacheMs?: number;
  /** Most kids remembered as unknown; the oldest is forgotten first. Default 1000. */
  maxNegativeCacheEntries?: number;
  /** Start background operation (prefetch, then refresh ahead of expiry) at creation. Default false. */
  autoStart?: boolean;
  /** Where to register the client's metrics. Default: none. */
  metrics?: MetricsRegistry;
  /** Prefix of the metric names, so that two clients can share a registry. Default 'jwks'. */
  metricPrefix?: string;
  /** Called with every failed fetch, background ones included (e.g. to log it). */
  onFetchError?: (error: KeySourceUnavailableError) => void;
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** Random numbers in [0, 1) for the retry jitter. Default Math.random. */
  random?: () => number;
  /** Schedules the client's timers (refresh, retry, fetch deadline). Default the global setTimeout. */
  setTimeout?(callback: () => void, ms: number): unknown;
  /** Cancels a timer made by `setTimeout`. Default the global clearTimeout. */
  clearTimeout?(handle: unknown): void;
}

type DefaultedOption = Exclude<
  keyof JwksClientOptions,
  'url' | 'dispatcher' | 'metrics' | 'onFetchError' | 'now' | 'random' | 'setTimeout' | 'clearTimeout'
>;

/** Defaults of {@link JwksClientOptions}, with units in the names. */
export const JWKS_CLIENT_DEFAULTS: Readonly<Required<Pick<JwksClientOptions, DefaultedOption>>> =
  Object.freeze({
    timeoutMs: 5_000,
    maxResponseBytes: 64 * 1024,
    maxRedirects: 3,
    algorithms: Object.freeze(['EdDSA', 'ES256'] as const),
    cacheMaxAgeMs: 300_000,
    minCacheAgeMs: 1_000,
    refreshAtRatio: 0.8,
    maxStaleMs: 600_000,
    retryInitialDelayMs: 1_000,
    retryMaxDelayMs: 30_000,
    retryJitterRatio: 0.5,
    cooldownMs: 30_000,
    // Used only when cooldownMs is left at its default too; otherwise it follows cooldownMs.
    negativeCacheMs: 30_000,
    maxNegativeCacheEntries: 1_000,
    autoStart: false,
    metricPrefix: 'jwks',
  });

/** {@link JwksClientOptions} with every default applied and every option checked. */
export type JwksClientSettings = typeof JWKS_CLIENT_DEFAULTS & {
  url: URL;
  dispatcher: Dispatcher | undefined;
  metrics: MetricsRegistry | undefined;
  onFetchError: ((error: KeySourceUnavailableError) => void) | undefined;
  now: () => number;
  random: () => number;
};

/**
 * Spreads the defaults (an option left undefined takes its default) and checks every option once,
 * throwing a TypeError that names the first bad option.
 */
export function resolveJwksClientOptions(options: JwksClientOptions): JwksClientSettings {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const merged = { ...JWKS_CLIENT_DEFAULTS, ...given } as Required<JwksClientOptions>;
  if (options.negativeCacheMs === undefined) merged.negativeCacheMs = merged.cooldownMs;
  const settings: JwksClientSettings = {
    ...merged,
    url: parseUrl(options.url),
    dispatcher: options.dispatcher,
    metrics: options.metrics,
    onFetchError: options.onFetchError,
    now: options.now ?? (() => Date.now()),
    random: options.random ?? Math.random,
  };
  const positive = ['timeoutMs', 'maxResponseBytes', 'cacheMaxAgeMs', 'retryInitialDelayMs'] as const;
  for (const name of positive) {
    if (!(Number.isFinite(settings[name]) && settings[name] > 0)) fail(name, 'must be a positive number');
  }
  const nonNegative = [
    'maxRedirects',
    'minCacheAgeMs',
    'maxStaleMs',
    'retryMaxDelayMs',
    'cooldownMs',
    'negativeCacheMs',
    'maxNegativeCacheEntries',
  ] as const;
  for (const name of nonNegative) {
    if (!(Number.isFinite(settings[name]) && settings[name] >= 0)) fail(name, 'must be a number >= 0');
  }
  if (!Number.isInteger(settings.maxRedirects)) fail('maxRedirects', 'must be an integer');
  if (settings.retryMaxDelayMs < settings.retryInitialDelayMs)
    fail('retryMaxDelayMs', 'must not be below retryInitialDelayMs');
  if (!(settings.retryJitterRatio >= 0 && settings.retryJitterRatio < 1))
    fail('retryJitterRatio', 'must be in [0, 1)');
  if (!(settings.refreshAtRatio > 0 && settings.refreshAtRatio <= 1))
    fail('refreshAtRatio', 'must be in (0, 1]');
  if (!Array.isArray(settings.algorithms) || settings.algorithms.length === 0)
    fail('algorithms', 'must name at least one algorithm');
  for (const alg of settings.algorithms) {
    // Only asymmetric algorithms: a symmetric "public" key would let anyone who reads the JWKS sign.
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg))
      fail('algorithms', `${alg} is not allowed (use ${SUPPORTED_ALGORITHMS.join(', ')})`);
  }
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(settings.metricPrefix))
    fail('metricPrefix', 'must be a valid metric name');
  return settings;
}

function parseUrl(value: URL | string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('url', 'must be an absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('url', 'must be an http(s) URL');
  return url;
}

function fail(option: string, problem: string): never {
  throw new TypeError(`JWKS client option "${option}" ${problem}`);
}

/**
 * The delay before retrying after the `failures`th failed fetch in a row: capped exponential
 * back-off from `retryInitialDelayMs`, shortened by up to `retryJitterRatio` of itself at random.
 * The JWKS client and the discovery client retry by this one rule.
 */
export function retryDelayMs(
  settings: Pick<
    JwksClientSettings,
    'retryInitialDelayMs' | 'retryMaxDelayMs' | 'retryJitterRatio' | 'random'
  >,
  failures: number,
): number {
  return (
    Math.min(settings.retryMaxDelayMs, settings.retryInitialDelayMs * 2 ** Math.min(failures - 1, 30)) *
    (1 - settings.retryJitterRatio * settings.random())
  );
}
