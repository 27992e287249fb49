/**
 * Every reason code the services answer with, in one registry. Clients and tests match on these
 * strings, so they are part of the outward contract (docs/design.md section 5): add, never rename.
 */
export const TOKEN_REASONS = [
  'token_missing',
  'token_malformed',
  'token_too_large',
  'unsupported_alg',
  'unknown_kid',
  'invalid_signature',
  'invalid_type',
  'invalid_issuer',
  'invalid_audience',
  'token_expired',
  'token_not_yet_valid',
  'lifetime_too_long',
  'token_replayed',
  'token_revoked',
  // the key that signed the token was revoked by the issuer (a keys-changed event)
  'key_revoked',
  'jwks_unavailable',
] as const;

/** Why a token was refused: the verifier's vocabulary. */
export type TokenReason = (typeof TOKEN_REASONS)[number];

const OTHER_REASONS = [
  // the handoff protocol
  'state_mismatch',
  'state_missing',
  'txn_unknown',
  'invalid_client',
  'invalid_redirect_uri',
  'insufficient_scope',
  // fresh sign-in (max_age, prompt) and discovery
  'invalid_max_age',
  'unsupported_prompt',
  'auth_too_old',
  'discovery_unavailable',
  // RP-initiated logout (GET|POST /logout/end-session)
  'invalid_post_logout_redirect_uri',
  'logout_hint_missing',
  'logout_hint_mismatch',
  // sessions and forms
  'session_missing',
  'invalid_credentials',
  'csrf_failed',
  'rate_limited',
  'login_busy',
  // operations
  'metrics_forbidden',
  // HTTP-level input problems
  'invalid_request',
  'unsupported_media_type',
  'body_too_large',
  'not_found',
  'not_ready',
  'store_unavailable',
  'internal_error',
] as const;

/** Every reason code, token reasons included. */
export type ReasonCode = TokenReason | (typeof OTHER_REASONS)[number];

/** The full list, for documentation and for tests that check a response uses a known code. */
export const REASON_CODES: readonly ReasonCode[] = [...TOKEN_REASONS, ...OTHER_REASONS];

/** How a reason code is answered: its HTTP status and the OAuth-style `error` word. */
export interface ReasonSpec {
  readonly statusCode: number;
  readonly error: string;
}

const badRequest = { statusCode: 400, error: 'invalid_request' } as const;
// A refused token, as the browser and back-channel routes answer it. API routes answer the same
// reasons with 401 (RFC 6750), through `refusedToken(result, { statusCode: 401 })`.
const badToken = { statusCode: 400, error: 'invalid_token' } as const;

/**
 * Every reason code bound to how it is answered, in one table (as fastify's `lib/errors.js`
 * binds each `FST_ERR_*` to its status). A throw site names the reason and its message, nothing
 * else: `throw new AppError('txn_unknown', 'This sign-in link was already used.')`.
 */
export const REASONS: Readonly<Record<ReasonCode, ReasonSpec>> = Object.freeze({
  token_missing: badToken,
  token_malformed: badToken,
  token_too_large: badToken,
  unsupported_alg: badToken,
  unknown_kid: badToken,
  invalid_signature: badToken,
  invalid_type: badToken,
  invalid_issuer: badToken,
  invalid_audience: badToken,
  token_expired: badToken,
  token_not_yet_valid: badToken,
  lifetime_too_long: badToken,
  token_replayed: badToken,
  token_revoked: badToken,
  key_revoked: badToken,
  // The one place that decides that a key outage is ours, not the client's: 503, so that the
  // caller (a browser, or server1's back-channel retries) may try again.
  jwks_unavailable: { statusCode: 503, error: 'temporarily_unavailable' },
  state_mismatch: badRequest,
  state_missing: badRequest,
  txn_unknown: badRequest,
  invalid_client: badRequest,
  invalid_redirect_uri: badRequest,
  insufficient_scope: { statusCode: 403, error: 'insufficient_scope' },
  invalid_max_age: badRequest,
  unsupported_prompt: badRequest,
  // The token proves a sign-in older than the max_age this service asked for: the browser starts
  // again, and the issuer asks for the password.
  auth_too_old: { statusCode: 401, error: 'login_required' },
  // Like a key outage: without the issuer's document there is nowhere to send the browser.
  discovery_unavailable: { statusCode: 503, error: 'temporarily_unavailable' },
  invalid_post_logout_redirect_uri: badRequest,
  // The two below are not errors: the end-session endpoint asks the user to confirm, and names
  // why on the page (as it does any verifier reason of a refused hint).
  logout_hint_missing: badRequest,
  logout_hint_mismatch: badRequest,
  session_missing: { statusCode: 401, error: 'unauthorized' },
  invalid_credentials: { statusCode: 401, error: 'unauthorized' },
  csrf_failed: { statusCode: 403, error: 'forbidden' },
  rate_limited: { statusCode: 429, error: 'too_many_requests' },
  // Every password-hashing slot is taken. A 429 rather than a 503: refusing is the cheap,
  // expected answer to a flood, and a 5xx is logged as a fault, with its stack, each time.
  login_busy: { statusCode: 429, error: 'too_many_requests' },
  metrics_forbidden: { statusCode: 403, error: 'forbidden' },
  invalid_request: badRequest,
  unsupported_media_type: { statusCode: 415, error: 'unsupported_media_type' },
  body_too_large: { statusCode: 413, error: 'payload_too_large' },
  not_found: { statusCode: 404, error: 'not_found' },
  not_ready: { statusCode: 503, error: 'temporarily_unavailable' },
  // A shared store (Redis, PostgreSQL) cannot be reached: the request is refused rather than
  // answered without its checks (a replay check skipped would accept a token twice). A 503, so
  // that the caller may retry once the store is back.
  store_unavailable: { statusCode: 503, error: 'temporarily_unavailable' },
  internal_error: { statusCode: 500, error: 'server_error' },
});

export interface AppErrorOptions {
  /**
   * Overrides the table's status for this answer. Only token refusals on API routes need it
   * (401 rather than 400); a 5xx reason keeps its status whatever is asked.
   */
  statusCode?: number;
  /** Overrides the table's `error` word (e.g. `invalid_token` on an API's 401). */
  error?: string;
  /** Extra response headers, such as `WWW-Authenticate` or `Retry-After`. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Builds an error without capturing a stack trace. For refusals that are the expected outcome of
 * bad input (an unknown kid, a 4xx): nobody reads their stack, and capturing one through
 * fastify's deep call chain is most of what refusing a request costs, which matters when an
 * attacker sends such requests by the thousand.
 */
export function withoutStackTrace<T>(create: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return create();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The one error type routes throw. The error handler turns it into the response: JSON
 * `{ error, reason }` for API routes, an HTML page carrying the same reason for browser routes.
 * The message is shown to the client, so it must never contain a secret. A 4xx carries no stack
 * trace (see {@link withoutStackTrace}); a 5xx keeps its stack, since it reports a fault.
 */
export class AppError extends Error {
  /** The HTTP status, named as fastify names it. */
  readonly statusCode: number;
  readonly reason: ReasonCode;
  readonly error: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(reason: ReasonCode, message: string, options: AppErrorOptions = {}) {
    const spec = REASONS[reason];
    // A 5xx reason is a fault of ours: no caller can make it read as the client's.
    const fault = spec.statusCode >= 500;
    const statusCode = fault ? spec.statusCode : (options.statusCode ?? spec.statusCode);
    const limit = Error.stackTraceLimit;
    if (statusCode < 500) Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'AppError';
    this.statusCode = statusCode;
    this.reason = reason;
    const ownError = statusCode === spec.statusCode ? spec.error : errorForStatus(statusCode);
    this.error = fault ? spec.error : (options.error ?? ownError);
    this.headers = options.headers ?? {};
  }
}

/** The `error` word of a status the table's entry did not choose (an overridden status). */
function errorForStatus(statusCode: number): string {
  if (statusCode === 401) return 'unauthorized';
  if (statusCode === 403) return 'forbidden';
  return statusCode >= 500 ? 'server_error' : 'invalid_request';
}

/** A token the verifier refused, as the AppError that answers it (see {@link REASONS}). */
export function refusedToken(
  refused: { readonly reason: TokenReason; readonly message: string },
  options: AppErrorOptions = {},
): AppError {
  return new AppError(refused.reason, refused.message, options);
}

/**
 * Thrown by a store whose backing server cannot answer now (unreachable, timed out, refusing).
 * The error handler answers it as `store_unavailable` (503). The message names only the store;
 * `cause` keeps the client's error (addresses included) for the log. `statusCode` makes an app's
 * own error handler, fastify's default included, answer 503 too.
 */
export class StoreUnavailableError extends Error {
  readonly statusCode = 503;

  constructor(store: string, cause: unknown) {
    super(`${store} cannot be reached`, { cause });
    this.name = 'StoreUnavailableError';
  }

  /** What the client reported, for the log. */
  get detail(): string {
    return this.cause instanceof Error ? this.cause.message : String(this.cause);
  }
}
