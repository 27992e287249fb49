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
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    const result = await verify(match?.[1]);
    if (!result.ok) {
      const reason = match ? result.reason : 'token_malformed';
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
    const granted = result.claims.scope.split(' ');
    if (!granted.includes(scope)) {
      onReject('insufficient_scope');
      throw new AppError('insufficient_scope', `the token lacks the scope ${scope}`, {
        error: 'insufficient_scope',
        headers: challenge(`, error="insufficient_scope", scope="${scope}"`),
      });
    }
    return result.claims;
  };
}
