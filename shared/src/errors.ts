/**
 * Every reason code the services answer with, in one registry. Clients and tests match on these
 * strings, so they are part of the outward contract (DESIGN.md section 5): add, never rename.
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
  // sessions and forms
  'session_missing',
  'invalid_credentials',
  'csrf_failed',
  'rate_limited',
  // HTTP-level input problems
  'invalid_request',
  'unsupported_media_type',
  'body_too_large',
  'not_found',
  'not_ready',
  'internal_error',
] as const;

/** Every reason code, token reasons included. */
export type ReasonCode = TokenReason | (typeof OTHER_REASONS)[number];

/** The full list, for documentation and for tests that check a response uses a known code. */
export const REASON_CODES: readonly ReasonCode[] = [...TOKEN_REASONS, ...OTHER_REASONS];

/** The OAuth-style `error` word that goes with an HTTP status when a route does not name one. */
const ERROR_FOR_STATUS: Record<number, string> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  503: 'temporarily_unavailable',
};

export interface AppErrorOptions {
  /** The `error` field of the JSON body; derived from the status when left out. */
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
  readonly status: number;
  readonly reason: ReasonCode;
  readonly error: string;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, reason: ReasonCode, message: string, options: AppErrorOptions = {}) {
    const limit = Error.stackTraceLimit;
    if (status < 500) Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'AppError';
    this.status = status;
    this.reason = reason;
    this.error =
      options.error ?? ERROR_FOR_STATUS[status] ?? (status >= 500 ? 'server_error' : 'invalid_request');
    this.headers = options.headers ?? {};
  }
}
