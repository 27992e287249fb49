import { AppError } from '@jwt-handoff/shared';

/** The `prompt` values server1 honours (published as `prompt_values_supported`). */
export const SUPPORTED_PROMPTS: readonly string[] = Object.freeze(['login']);

/** What a handoff request asks about the freshness of the sign-in (OIDC Core 1.0 section 3.1.2.1). */
export interface FreshnessRequest {
  /** The most seconds since the user last entered their password; undefined when not asked. */
  readonly maxAgeSec: number | undefined;
  /** `prompt=login`: ask for the password whatever the session's age. */
  readonly forceLogin: boolean;
}

// At most ten digits: a larger max_age asks nothing a session could fail anyway.
const MAX_AGE_PATTERN = /^\d{1,10}$/;

/**
 * Reads `max_age` and `prompt` from the query of GET /handoff/authorize. A malformed max_age is
 * refused (`invalid_max_age`), never read as "no limit", since the client asked for one. Of the
 * prompt values only `login` is honoured; any other is refused (`unsupported_prompt`), as
 * node-oidc-provider does, rather than ignored: `none` or `consent` would promise behaviour
 * server1 does not have (no consent screen, no error redirect).
 */
export function readFreshnessRequest(query: { max_age?: unknown; prompt?: unknown }): FreshnessRequest {
  const { max_age: maxAge, prompt } = query;
  if (maxAge !== undefined && (typeof maxAge !== 'string' || !MAX_AGE_PATTERN.test(maxAge))) {
    throw new AppError('invalid_max_age', 'This sign-in link has a max_age that is not a number of seconds.');
  }
  if (prompt !== undefined && prompt !== '') {
    const values = typeof prompt === 'string' ? prompt.split(' ') : [];
    if (values.length === 0 || values.some((value) => !SUPPORTED_PROMPTS.includes(value))) {
      throw new AppError('unsupported_prompt', 'This sign-in link asks for a prompt server1 does not offer.');
    }
  }
  return {
    maxAgeSec: maxAge === undefined ? undefined : Number(maxAge),
    forceLogin: prompt !== undefined && prompt !== '',
  };
}

/**
 * Whether the session's sign-in is too old for this request: always with prompt=login, or when
 * more than max_age seconds have passed since auth_time (whole seconds, as the token carries it).
 */
export function needsFreshLogin(request: FreshnessRequest, authTimeMs: number, nowMs: number): boolean {
  if (request.forceLogin) return true;
  if (request.maxAgeSec === undefined) return false;
  return Math.floor(nowMs / 1000) - Math.floor(authTimeMs / 1000) > request.maxAgeSec;
}

/**
 * Where the browser returns after the fresh sign-in: the same request without `prompt` and
 * `max_age`, which the sign-in just made has met (kept, prompt=login or a max_age of a second or
 * two would send the browser round again). Whoever edits the URL to skip the sign-in gets a token
 * with the old auth_time, which a client that asked for max_age refuses (`auth_too_old`).
 */
export function afterFreshLogin(url: string): string {
  const parsed = new URL(url, 'http://server1.invalid');
  parsed.searchParams.delete('prompt');
  parsed.searchParams.delete('max_age');
  return `${parsed.pathname}${parsed.search}`;
}
