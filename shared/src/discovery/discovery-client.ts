import { backgroundTimers } from '../keys/background-timers.js';
import { BoundedFetchError, fetchBounded } from '../keys/bounded-fetch.js';
import { freshForMs } from '../keys/cache-control.js';
import {
  type JwksClientOptions,
  resolveJwksClientOptions,
  retryDelayMs,
} from '../keys/jwks-client-options.js';
import { KeySourceUnavailableError } from '../keys/key-source.js';
import { type DiscoveredEndpoints, discoveryUrl, readDiscoveryDocument } from './discovery-document.js';

/**
 * Options of {@link createDiscoveryClient}: the issuer, and the fetch and resilience settings of
 * the JWKS client (timeouts, size limit, same-origin redirects, cache bounds, stale window,
 * retry back-off), which apply to the discovery document unchanged.
 */
export interface DiscoveryClientOptions
  extends Omit<
    JwksClientOptions,
    | 'url'
    | 'algorithms'
    | 'metrics'
    | 'metricPrefix'
    | 'autoStart'
    | 'negativeCacheMs'
    | 'maxNegativeCacheEntries'
  > {
  /** The configured issuer: the document's `issuer` must equal it exactly. */
  issuer: string;
  /** Called with the endpoints after every successful fetch whose endpoints differ from the last. */
  onChange?: (endpoints: DiscoveredEndpoints) => void;
}

/** The issuer's discovery document, kept fresh in the background. */
export interface DiscoveryClient {
  /** The endpoints, while the last good document is within its stale window; undefined otherwise. */
  current(): DiscoveredEndpoints | undefined;
  /**
   * The endpoints, fetching the document first when none is usable (one shared fetch, within
   * the retry back-off); rejects with a {@link KeySourceUnavailableError} when it cannot.
   */
  endpoints(): Promise<DiscoveredEndpoints>;
  /** Whether a usable document is held. */
  isReady(): boolean;
  /** Fetches now (sharing one in flight); rejects when it fails. */
  refresh(): Promise<DiscoveredEndpoints>;
  /** Begins background operation: fetches now unless a document is held, then refreshes ahead of expiry. */
  start(): void;
  /** Stops the timers and aborts a fetch in flight. */
  close(): Promise<void>;
}

type FetchResult =
  | { readonly ok: true; readonly endpoints: DiscoveredEndpoints }
  | { readonly ok: false; readonly error: KeySourceUnavailableError };

/**
 * Fetches `${issuer}/.well-known/jwt-handoff-configuration` under the JWKS client's rules
 * (docs/keys.md, docs/design.md "Discovery"): fresh for the response's max-age within the cache
 * bounds, revalidated with If-None-Match, refreshed in the background before it expires, retried
 * with capped, jittered back-off after a failure, and served stale-if-error for `maxStaleMs`.
 * A document whose `issuer` is not the configured one counts as a failed fetch: it is never
 * used, the failure is reported through `onFetchError`, and the client is not ready until a
 * document that names the right issuer arrives. There is no on-demand refetch beyond that: a
 * request that finds no usable document waits for a shared fetch, or is refused at once within
 * the back-off, so a flood of requests costs the issuer one fetch per retry delay.
 */
export function createDiscoveryClient(options: DiscoveryClientOptions): DiscoveryClient {
  const { issuer } = options;
  const url = discoveryUrl(issuer);
  const settings = resolveJwksClientOptions({ ...options, url });
  const { now } = settings;
  const { setTimer, clearTimer } = backgroundTimers(options);

  let held: DiscoveredEndpoints | undefined;
  let etag: string | undefined;
  let fetchedAt = 0;
  let freshMs = 0;
  let consecutiveFailures = 0;
  let lastFailureAt = Number.NEGATIVE_INFINITY;
  let retryDelay = 0;
  let lastError: KeySourceUnavailableError | undefined;
  let inflight: Promise<FetchResult> | undefined;
  let abortInflight: AbortController | undefined;
  let started = false;
  let timer: unknown;

  const staleUntil = () => fetchedAt + freshMs + settings.maxStaleMs;
  const isUsable = (t: number) => held !== undefined && t < staleUntil();
  const retryAt = () => (consecutiveFailures === 0 ? Number.NEGATIVE_INFINITY : lastFailureAt + retryDelay);

  function fetchDocument(): Promise<FetchResult> {
    if (inflight) return inflight;
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
      const response = await fetchBounded(new URL(url), {
        dispatcher: settings.dispatcher,
        timeoutMs: settings.timeoutMs,
        maxResponseBytes: settings.maxResponseBytes,
        maxRedirects: settings.maxRedirects,
        headers: held && etag ? { 'if-none-match': etag } : {},
        signal,
        setTimeout: setTimer,
        clearTimeout: clearTimer,
      });
      let endpoints: DiscoveredEndpoints;
      if (response.status === 304 && held) {
        endpoints = held;
      } else if (response.status === 200) {
        endpoints = readDiscoveryDocument(parseJson(response.body), issuer);
        etag = undefined;
      } else {
        throw new BoundedFetchError('error', `the discovery endpoint answered ${response.status}`);
      }
      const changed = !held || JSON.stringify(held) !== JSON.stringify(endpoints);
      held = endpoints;
      etag = typeof response.headers.etag === 'string' ? response.headers.etag : etag;
      fetchedAt = now();
      freshMs = freshForMs(response.headers['cache-control'], settings);
      consecutiveFailures = 0;
      lastError = undefined;
      if (changed) options.onChange?.(endpoints);
      return { ok: true, endpoints };
    } catch (err) {
      const detail = err instanceof Error ? err.message : String(err);
      const error = new KeySourceUnavailableError(`cannot use the issuer's discovery document: ${detail}`, {
        cause: err,
      });
      consecutiveFailures += 1;
      lastFailureAt = now();
      retryDelay = retryDelayMs(settings, consecutiveFailures);
      lastError = error;
      try {
        settings.onFetchError?.(error);
      } catch {
        // A failing log hook must not turn a handled failure into an unhandled rejection.
      }
      return { ok: false, error };
    }
  }

  function schedule(): void {
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
    if (!started || inflight) return;
    const t = now();
    const due =
      consecutiveFailures > 0 ? retryAt() : held ? fetchedAt + freshMs * settings.refreshAtRatio : t;
    timer = setTimer(
      () => {
        timer = undefined;
        void fetchDocument();
      },
      Math.max(0, due - t),
    );
  }

  const unavailable = () =>
    lastError ?? new KeySourceUnavailableError("the issuer's discovery document is not available");

  const client: DiscoveryClient = {
    current: () => (isUsable(now()) ? held : undefined),
    isReady: () => isUsable(now()),
    async endpoints() {
      const t = now();
      if (isUsable(t)) return held as DiscoveredEndpoints;
      if (!inflight && t < retryAt()) throw unavailable();
      await fetchDocument();
      if (!isUsable(now())) throw unavailable();
      return held as DiscoveredEndpoints;
    },
    async refresh() {
      const result = await fetchDocument();
      if (!result.ok) throw result.error;
      return result.endpoints;
    },
    start() {
      if (started) return;
      started = true;
      if (!inflight && !isUsable(now())) void fetchDocument();
      else schedule();
    },
    async close() {
      started = false;
      schedule();
      const pending = inflight;
      abortInflight?.abort(new Error('the discovery client was closed'));
      if (pending) await pending;
    },
  };
  return client;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error('the discovery document is not JSON');
  }
}
