import type { FastifyInstance } from 'fastify';
import { refusedToken } from '../errors.js';
import { formFields, textField } from '../http/form-body.js';
import type { LogoutClaims } from '../tokens/logout-token.js';
import type { TokenVerifier } from '../tokens/verifier.js';
import type { RelyingMetrics } from './metrics.js';
import type { Revocation } from './revocation.js';
import type { RelyingSessionStore } from './stores.js';

/** Everything POST /backchannel-logout uses. */
export interface BackchannelLogoutRouteOptions {
  verifyLogoutToken: TokenVerifier<LogoutClaims>;
  sessions: Pick<RelyingSessionStore, 'deleteBySid' | 'deleteBySub'>;
  revocation: Pick<Revocation, 'endSession' | 'endAllSessions'>;
  metrics: Pick<RelyingMetrics, 'tokenRejected' | 'backchannelLogout'>;
}

/**
 * POST /backchannel-logout, as in OpenID Connect Back-Channel Logout 1.0: the issuer posts a
 * `logout_token`; a valid one ends the matching local sessions (by sid, or every session of the
 * user when only sub is given) and answers 200. "Sign out everywhere" also carries the user's
 * tokens-valid-after time, recorded so that older handoff tokens are refused from now on. A bad
 * token is a 400 with its reason; a key outage is a 503, so that the issuer retries.
 */
export async function backchannelLogoutRoute(
  app: FastifyInstance,
  options: BackchannelLogoutRouteOptions,
): Promise<void> {
  const { verifyLogoutToken, sessions, revocation, metrics } = options;

  app.post('/backchannel-logout', async (request, reply) => {
    const token = textField(formFields(request), 'logout_token');
    const result = await verifyLogoutToken(token);
    if (!result.ok) {
      metrics.tokenRejected({ kind: 'logout', reason: result.reason });
      // OpenID Connect Back-Channel Logout 1.0, section 2.8: a refused logout token is a 400
      // `invalid_request`.
      throw refusedToken(result, { error: 'invalid_request' });
    }
    const { sub, sid, tokens_valid_after: tokensValidAfter } = result.claims;
    if (sub !== undefined && tokensValidAfter !== undefined)
      await revocation.endAllSessions(sub, tokensValidAfter);
    // A handoff from this issuer session may still be on its way, or between its callback and
    // its completion: the sid is remembered for as long, so it cannot start a session afterwards.
    if (sid !== undefined) await revocation.endSession(sid);
    const ended =
      sid !== undefined ? await sessions.deleteBySid(sid, sub) : await sessions.deleteBySub(sub as string);
    metrics.backchannelLogout({ scope: sid !== undefined ? 'session' : 'user' });
    request.log.info({ ended }, 'back-channel logout');
    return reply.code(200).header('cache-control', 'no-store').send();
  });
}
