import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { AppError, refusedToken } from '../errors.js';
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
  /** Acts on a `keys_changed_token` posted here instead of a logout token (keys-changed-event.ts). */
  onKeysChanged: (token: string | undefined, log: FastifyBaseLogger) => Promise<readonly string[]>;
}

/**
 * POST /backchannel-logout, as in OpenID Connect Back-Channel Logout 1.0: the issuer posts a
 * `logout_token`; a valid one ends the matching local sessions (by sid, or every session of the
 * user when only sub is given) and answers 200. "Sign out everywhere" also carries the user's
 * tokens-valid-after time, recorded so that older handoff tokens are refused from now on. A bad
 * token is a 400 with its reason; a key outage is a 503, so that the issuer retries. A
 * `keys_changed_token` instead is the issuer revoking keys (keys-changed-event.ts).
 */
export async function backchannelLogoutRoute(
  app: FastifyInstance,
  options: BackchannelLogoutRouteOptions,
): Promise<void> {
  const { verifyLogoutToken, sessions, revocation, metrics, onKeysChanged } = options;

  app.post('/backchannel-logout', async (request, reply) => {
    const fields = formFields(request);
    // The issuer's key revocations come to the same back-channel URL, in a field of their own
    // (docs/design.md section 4): a client registers one back-channel URL, and each field has
    // its own verifier with its own typ, so neither kind of token passes for the other.
    if (fields.keys_changed_token !== undefined) {
      if (fields.logout_token !== undefined)
        throw new AppError('invalid_request', 'send a logout_token or a keys_changed_token, not both');
      await onKeysChanged(textField(fields, 'keys_changed_token'), request.log);
      return reply.code(200).header('cache-control', 'no-store').send();
    }
    const token = textField(fields, 'logout_token');
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
