import type { IncomingHttpHeaders } from 'node:http';
import { type Dispatcher, request } from 'undici';

/** Why a {@link fetchBounded} call gave up; the JWKS client's fetch metric uses these labels. */
export type BoundedFetchFailure = 'error' | 'timeout' | 'too_large' | 'redirect';

/** Thrown by {@link fetchBounded}; `outcome` says which limit or failure it was. */
export class BoundedFetchError extends Error {
  constructor(
    readonly outcome: BoundedFetchFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BoundedFetchError';
  }
}

/** Options of {@link fetchBounded}. */
export interface BoundedFetchOptions {
  /** The undici dispatcher to send through (a MockAgent in tests). Default: undici's global one. */
  dispatcher?: Dispatcher | undefined;
  /** Deadline of the whole exchange, redirects and body included, in milliseconds. */
  timeoutMs: number;
  /** The largest body read, in bytes; checked on content-length and again while streaming. */
  maxResponseBytes: number;
  /** Same-origin redirects followed before giving up. */
  maxRedirects: number;
  /** Request headers, sent again on every redirect hop. */
  headers?: Record<string, string>;
  /** Aborts the exchange from outside (the client's close()). */
  signal?: AbortSignal;
  /** Timer functions, injectable so that tests control time. */
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

/** A final (non-redirect) answer, its body read in full. */
export interface BoundedResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

const FOLLOWED_REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A GET over undici's `request` with an overall deadline, a body size limit and same-origin
 * redirects only. Every answer that is not a followed redirect is returned, whatever its status:
 * the caller decides what a 304 or a 500 means.
 */
export async function fetchBounded(url: URL, options: BoundedFetchOptions): Promise<BoundedResponse> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = options.setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`no complete answer within ${options.timeoutMs} ms`));
  }, options.timeoutMs);
  (timer as { unref?: () => void } | undefined)?.unref?.();
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  try {
    return await followRedirects(url, options, controller.signal);
  } catch (err) {
    if (timedOut) throw new BoundedFetchError('timeout', `no answer within ${options.timeoutMs} ms`);
    if (err instanceof BoundedFetchError) throw err;
    throw new BoundedFetchError('error', `request failed: ${(err as Error).message}`, { cause: err });
  } finally {
    options.clearTimeout(timer);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
}

async function followRedirects(
  url: URL,
  options: BoundedFetchOptions,
  signal: AbortSignal,
): Promise<BoundedResponse> {
  let current = url;
  for (let hop = 0; ; hop += 1) {
    // undici's request() follows no redirect by itself (no redirect interceptor is installed), so
    // every hop passes through the origin check below.
    const response = await request(current, {
      method: 'GET',
      headers: { accept: 'application/json', ...options.headers },
      signal,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    const { statusCode, headers, body } = response;
    if (!FOLLOWED_REDIRECTS.has(statusCode)) {
      return { status: statusCode, headers, body: await readBody(response, options.maxResponseBytes) };
    }
    discard(body);
    current = nextHop(url, current, headers.location, hop, options.maxRedirects);
  }
}

/**
 * Where a redirect may lead. Only the configured origin (scheme, host and port) is trusted to
 * publish the issuer's keys: following a redirect elsewhere would let whoever controls the
 * Location header (an open redirect on the issuer, a compromised proxy) choose the keys we
 * accept, and a switch from https to http would expose them to tampering on the way.
 */
function nextHop(
  configured: URL,
  current: URL,
  location: string | string[] | undefined,
  hop: number,
  maxRedirects: number,
): URL {
  if (hop >= maxRedirects) {
    throw new BoundedFetchError('redirect', `more than ${maxRedirects} redirects, not followed`);
  }
  if (typeof location !== 'string' || location.length === 0) {
    throw new BoundedFetchError('redirect', 'a redirect without a usable Location, not followed');
  }
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    throw new BoundedFetchError('redirect', 'a redirect to an invalid URL, not followed');
  }
  if (next.origin !== configured.origin || next.username !== '' || next.password !== '') {
    throw new BoundedFetchError('redirect', 'a redirect to another origin, not followed');
  }
  return next;
}

/**
 * Reads at most `maxBytes`. The declared length is checked first so that an honest oversized
 * answer costs nothing; the running count catches a chunked or lying one before it is buffered.
 */
async function readBody(response: Dispatcher.ResponseData, maxBytes: number): Promise<Buffer> {
  const { body, headers } = response;
  const declared = Number(headers['content-length']);
  if (declared > maxBytes) {
    discard(body);
    throw new BoundedFetchError(
      'too_large',
      `a body of ${declared} bytes is over the ${maxBytes}-byte limit`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      discard(body);
      throw new BoundedFetchError('too_large', `the body is over the ${maxBytes}-byte limit`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Drops a body unread. undici reports the early close as an 'error' event, which is expected here. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}
