import { type CryptoKey, exportSPKI, importJWK, type JWK, jwtVerify } from 'jose';
import { naiveHandoffRoutes } from './naive-handoff.js';
import { headerOf, soundHandoffVerifier, verifiedOnce } from './naive-verify.js';
import { type BrokenAppOptions, buildRelyingApp } from './relying-app.js';

/** The published key `kid` as PEM, as a verifier that takes "a secret or a public key" holds it. */
async function publishedPem(jwksUrl: string, kid: unknown): Promise<string> {
  const { keys } = (await (await fetch(jwksUrl)).json()) as { keys: JWK[] };
  const jwk = keys.find((key) => key.kid === kid);
  if (!jwk) throw Object.assign(new Error('no such key'), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  return exportSPKI((await importJWK(jwk, jwk.alg)) as CryptoKey);
}

/**
 * BROKEN (1): no algorithm allowlist. The token's own `alg` decides how it is checked, and for
 * HS256 the published public key (PEM) becomes the HMAC secret, as verifiers that take "a secret
 * or a public key" did (CVE-2015-9235, CVE-2016-10555). Anyone can sign with a public key.
 */
export async function buildAlgAllowlistRemovedApp(options: BrokenAppOptions) {
  return buildRelyingApp(options, {
    prefix: '/plugin',
    routes(app) {
      const rp = app.relyingParty;
      const sound = soundHandoffVerifier(rp);
      naiveHandoffRoutes(app, {
        ...options,
        verify: async (token) => {
          const alg = headerOf(token)?.alg ?? '';
          if (!alg.startsWith('HS')) return sound(token);
          return verifiedOnce(rp, token, async (t) =>
            jwtVerify(t, new TextEncoder().encode(await publishedPem(options.jwksUrl, headerOf(t)?.kid)), {
              issuer: options.issuer,
              audience: options.clientId,
              typ: 'handoff+jwt',
              requiredClaims: ['jti', 'sub', 'nonce'],
            }),
          );
        },
      });
    },
  });
}
