import { formFields, refusedToken, textField } from '@jwt-handoff/shared';
import type { FastifyInstance } from 'fastify';
import type { Server2Context } from '../context.js';
import { TXN_TTL_MS } from './handoff.js';

/**
 * POST /backchannel-logout, as in OpenID Connect Back-Channel Logout 1.0: server1 posts a
 * `logout_token`; a valid one ends the matching local sessions (by sid, or every session of the
 * user when only sub is given) and answers 200. "Sign out everywhere" also carries the user's
 * tokens-valid-after time, recorded so that older handoff tokens are refused from now on. A bad
 * token is a 400 with its reason; a missing key source is a 503, so that server1 retries.
 */
export async function backchannelLogoutRoutes(app: FastifyInstance, ctx: Server2Context): Promise<void> {
  const { sessionStore, revocations, verifyLogoutToken, metrics, now } = ctx;

  app.post('/backchannel-logout', async (request, reply) => {
    const token = textField(formFields(request), 'logout_token');
    const result = await verifyLogoutToken(token);
    if (!result.ok) {
      metrics.tokenRejected({ kind: 'logout', reason: result.reason });
      // OpenID Connect Back-Channel Logout 1.0, section 2.8: a refused logout token is a 400
      // `invalid_request`; a key outage stays a 503, so that server1 retries.
      throw refusedToken(result, { error: 'invalid_request' });
    }
    const { sub, sid, tokens_valid_after: tokensValidAfter } = result.claims;
    if (sub !== undefined && tokensValidAfter !== undefined)
      await revocations.revokeUntil(sub, tokensValidAfter);
    // A handoff from this server1 session may be between its callback and its completion: the
    // sid is remembered for that long, so it cannot start a session after the sign-out.
    if (sid !== undefined) await revocations.endSid(sid, now() + 2 * TXN_TTL_MS);
    const ended =
      sid !== undefined
        ? await sessionStore.deleteBySid(sid, sub)
        : await sessionStore.deleteBySub(sub as string);
    metrics.backchannelLogout({ scope: sid !== undefined ? 'session' : 'user' });
    request.log.info({ ended }, 'back-channel logout');
    return reply.code(200).header('cache-control', 'no-store').send();
  });
}
