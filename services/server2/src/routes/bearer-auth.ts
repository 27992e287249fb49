import { AppError, type ServiceClaims, type TokenVerifier } from '@jwt-handoff/shared';
import type { FastifyRequest } from 'fastify';

/**
 * Authenticates an API call by its `Authorization: Bearer` service token and checks its scope,
 * answering as RFC 6750 asks: 401 with `error="invalid_token"` for a bad token (no error code
 * when there was no token at all), 403 `insufficient_scope` naming the scope that was missing.
 */
export function createBearerAuth(
  verify: TokenVerifier<ServiceClaims>,
  realm: string,
  onReject: (reason: string) => void,
) {
  const challenge = (fields: string) => ({ 'www-authenticate': `Bearer realm="${realm}"${fields}` });

  return async function authorize(request: FastifyRequest, scope: string): Promise<ServiceClaims> {
    const header = request.headers.authorization;
    if (header === undefined || header === '') {
      onReject('token_missing');
      throw new AppError(401, 'token_missing', 'a Bearer token is required', { headers: challenge('') });
    }
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    const result = await verify(match?.[1]);
    if (!result.ok) {
      const reason = match ? result.reason : 'token_malformed';
      onReject(reason);
      if (reason === 'jwks_unavailable') throw new AppError(503, reason, result.message);
      throw new AppError(401, reason, `the token was refused: ${reason}`, {
        error: 'invalid_token',
        headers: challenge(`, error="invalid_token", error_description="${reason}"`),
      });
    }
    const granted = result.claims.scope.split(' ');
    if (!granted.includes(scope)) {
      onReject('insufficient_scope');
      throw new AppError(403, 'insufficient_scope', `the token lacks the scope ${scope}`, {
        error: 'insufficient_scope',
        headers: challenge(`, error="insufficient_scope", scope="${scope}"`),
      });
    }
    return result.claims;
  };
}
