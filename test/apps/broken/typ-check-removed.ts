import {
  ACTIVITY_SCOPE,
  AppError,
  BACKCHANNEL_LOGOUT_EVENT,
  formFields,
  refusedToken,
  textField,
} from '@jwt-handoff/shared';
import { type JWTPayload, jwtVerify } from 'jose';
import { naiveHandoffRoutes } from './naive-handoff.js';
import { apiRefusal, reasonFor, soundHandoffVerifier } from './naive-verify.js';
import { type BrokenAppOptions, buildRelyingApp } from './relying-app.js';

/**
 * BROKEN (5): the back-channel logout route and the activity API verify signature, issuer,
 * audience and algorithm, but not `typ`, so a token of another kind (a handoff token) passes as
 * a logout or service token. Each still checks its kind's own claim (`events`, `scope`), the
 * second fence, which then refuses it for the wrong reason.
 */
export async function buildTypCheckRemovedApp(options: BrokenAppOptions) {
  return buildRelyingApp(options, {
    prefix: '/plugin',
    routes(app) {
      const rp = app.relyingParty;
      naiveHandoffRoutes(app, { ...options, verify: soundHandoffVerifier(rp) });
      const verifyWithoutTyp = async (token: string | undefined) => {
        if (!token) throw new AppError('token_missing', 'no token', { statusCode: 401 });
        if (token.length > 8192) throw new AppError('token_too_large', 'over 8 KiB');
        const { payload } = await jwtVerify<JWTPayload & Record<string, unknown>>(token, rp.keys.getKey, {
          issuer: options.issuer,
          audience: options.clientId,
          algorithms: [...rp.options.algorithms],
          requiredClaims: ['exp', 'iat', 'jti'],
        });
        return payload;
      };

      app.post('/backchannel-logout', async (request, reply) => {
        let claims: Awaited<ReturnType<typeof verifyWithoutTyp>>;
        try {
          claims = await verifyWithoutTyp(textField(formFields(request), 'logout_token'));
        } catch (err) {
          if (err instanceof AppError) throw err;
          throw refusedToken(
            { reason: reasonFor(err), message: (err as Error).message },
            { error: 'invalid_request' },
          );
        }
        const events = claims.events as Record<string, unknown> | undefined;
        if (typeof events?.[BACKCHANNEL_LOGOUT_EVENT] !== 'object')
          throw new AppError('token_malformed', 'no logout event');
        if (typeof claims.sid === 'string') await rp.stores.sessions.deleteBySid(claims.sid, claims.sub);
        else if (claims.sub) await rp.stores.sessions.deleteBySub(claims.sub);
        return reply.code(200).send();
      });

      app.get('/api/users/:sub/activity', async (request) => {
        const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
        let claims: Awaited<ReturnType<typeof verifyWithoutTyp>>;
        try {
          claims = await verifyWithoutTyp(token);
        } catch (err) {
          throw apiRefusal(err instanceof AppError ? (err.reason as never) : reasonFor(err));
        }
        if (
          !String(claims.scope ?? '')
            .split(' ')
            .includes(ACTIVITY_SCOPE)
        ) {
          throw new AppError('insufficient_scope', `the token lacks the scope ${ACTIVITY_SCOPE}`);
        }
        return { sub: (request.params as { sub: string }).sub };
      });
    },
  });
}
