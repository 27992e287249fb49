import { EmbeddedJWK, jwtVerify } from 'jose';
import { naiveHandoffRoutes } from './naive-handoff.js';
import { headerOf, soundHandoffVerifier, verifiedOnce } from './naive-verify.js';
import { type BrokenAppOptions, buildRelyingApp } from './relying-app.js';

/**
 * BROKEN (6): a token that carries its own key in a `jwk` header is verified with that key
 * (CVE-2018-0114), so anyone can sign one.
 */
export async function buildJwkHeaderTrustedApp(options: BrokenAppOptions) {
  return buildRelyingApp(options, {
    prefix: '/plugin',
    routes(app) {
      const rp = app.relyingParty;
      const sound = soundHandoffVerifier(rp);
      naiveHandoffRoutes(app, {
        ...options,
        verify: async (token) => {
          if (headerOf(token)?.jwk === undefined) return sound(token);
          return verifiedOnce(rp, token, (t) =>
            jwtVerify(t, EmbeddedJWK, {
              issuer: options.issuer,
              audience: options.clientId,
              typ: 'handoff+jwt',
              algorithms: [...rp.options.algorithms],
              requiredClaims: ['jti', 'sub', 'nonce'],
            }),
          );
        },
      });
    },
  });
}
