import type { FastifyRequest } from 'fastify';
import { AppError, REASONS, type ReasonCode, refusedToken } from '../errors.js';
import type { ServiceClaims } from '../tokens/service-token.js';
import type { TokenVerifier } from '../tokens/verifier.js';

/** Checks an API call's Bearer service token and one scope; resolves its claims or throws. */
export type ServiceTokenAuth = (request: FastifyRequest, scope: string) => Promise<ServiceClaims>;

/**
 * Authenticates an API call by its `Authorization: Bearer` service token and checks its scope,
 * answering as RFC 6750 asks: 401 with `error="invalid_token"` for a bad token (no error code
 * when there was no token at all), 403 `insufficient_scope` naming the scope that was missing.
 */
export function createServiceTokenAuth(
  verify: TokenVerifier<ServiceClaims>,
  realm: string,
  onReject: (reason: ReasonCode) => void,
): ServiceTokenAuth {
  const challenge = (fields: string) => ({ 'www-authenticate': `Bearer realm="${realm}"${fields}` });

  return async function authorize(request: FastifyRequest, scope: string): Promise<ServiceClaims> {
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      onReject('token_missing');
      throw new AppError('token_missing', 'a Bearer token is required', {
        statusCode: 401,
        headers: challenge(''),
      });
    }
    const token = bearerToken(header);
    const result = await verify(token);
    if (!result.ok) {
      const reason = token === undefined ? 'token_malformed' : result.reason;
      onReject(reason);
      // A key outage is ours (REASONS makes it a 503): the token is not called invalid.
      if (REASONS[reason].statusCode >= 500) throw refusedToken(result);
      // RFC 6750: a bad token on an API is a 401 with a challenge naming the error.
      throw refusedToken(
        { reason, message: `the token was refused: ${reason}` },
        {
          statusCode: 401,
          error: 'invalid_token',
          headers: challenge(`, error="invalid_token", error_description="${reason}"`),
        },
      );
    }
    if (!grantsScope(result.claims.scope, scope)) {
      onReject('insufficient_scope');
      throw new AppError('insufficient_scope', `the token lacks the scope ${scope}`, {
        error: 'insufficient_scope',
        headers: challenge(`, error="insufficient_scope", scope="${scope}"`),
      });
    }
    return result.claims;
  };
}

/**
 * What follows `Bearer ` (the scheme in any case, RFC 7235) in an `Authorization` header, or
 * undefined for another scheme or nothing after it. The rest is handed to the verifier as it is:
 * anything but a compact JWS (a space, a second part) is refused there as `token_malformed`.
 * Sliced rather than matched with a regular expression: it runs on every API call, cache hits
 * included, and a case-insensitive match with a capture scanned the whole token each time.
 */
function bearerToken(header: string): string | undefined {
  if (header.length <= BEARER_PREFIX.length) return undefined;
  const prefix = header.slice(0, BEARER_PREFIX.length);
  if (prefix !== BEARER_PREFIX && prefix.toLowerCase() !== 'bearer ') return undefined;
  return header.slice(BEARER_PREFIX.length);
}

const BEARER_PREFIX = 'Bearer ';

/**
 * Whether the space-separated `granted` list (a token's `scope` claim) names `scope` exactly:
 * the same answer as `granted.split(' ').includes(scope)`, without an array per API call.
 */
function grantsScope(granted: string, scope: string): boolean {
  for (let from = 0; ; ) {
    const space = granted.indexOf(' ', from);
    const end = space === -1 ? granted.length : space;
    if (end - from === scope.length && granted.startsWith(scope, from)) return true;
    if (space === -1) return false;
    from = space + 1;
  }
}
