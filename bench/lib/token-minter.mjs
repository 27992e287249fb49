// @ts-check
// Mints the tokens the scenarios present, with the bench issuer's key (see issuer.mjs), as
// server1 would: Ed25519, kid = thumbprint, the typ and claims of docs/design.md section 3. Signing
// uses node:crypto directly, so that minting costs the load generators as little as possible.
import { createPrivateKey, randomBytes, randomUUID, sign } from 'node:crypto';

/** @import { Signer } from './issuer.mjs' */

const b64 = (/** @type {unknown} */ value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * `signer` is issuer.signer. `audience` is server2's client id.
 * @param {Signer} signer
 * @param {string} [audience]
 */
export function createMinter({ issuer, kid, privateKeyPem }, audience = 'server2') {
  const key = createPrivateKey(privateKeyPem);
  /** @type {(header: object, claims: object) => string} */
  const compact = (header, claims) => {
    const input = `${b64(header)}.${b64(claims)}`;
    return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
  };
  const nowSec = () => Math.floor(Date.now() / 1000);
  return {
    /**
     * A service token (typ service+jwt, scope activity:read), valid for 60 s from now.
     * @param {Record<string, unknown>} [overrides] claims to add or replace
     */
    service(overrides = {}) {
      const iat = nowSec();
      return compact(
        { alg: 'EdDSA', kid, typ: 'service+jwt' },
        {
          iss: issuer,
          sub: 'server1',
          aud: audience,
          scope: 'activity:read',
          jti: randomUUID(),
          iat,
          exp: iat + 60,
          ...overrides,
        },
      );
    },
    /**
     * A handoff token for `sub` bound to the browser's `state`, valid for 60 s from now.
     * @param {string} sub
     * @param {string} state
     */
    handoff(sub, state) {
      const iat = nowSec();
      return compact(
        { alg: 'EdDSA', kid, typ: 'handoff+jwt' },
        {
          iss: issuer,
          sub,
          aud: audience,
          jti: randomUUID(),
          nonce: state,
          iat,
          exp: iat + 60,
          auth_time: iat,
          sid: `sid-${sub}`,
          name: 'Bench User',
          email: 'bench@example.test',
        },
      );
    },
  };
}

/**
 * A well-formed service token naming a random kid that no JWKS holds, with a random signature:
 * what the unknown-kid flood sends. No key is needed to make one, which is the point.
 * @param {string} issuer the issuer URL, the tokens' iss
 * @param {string} [audience]
 * @returns {() => string} a new token each call
 */
export function createRandomKidTokens(issuer, audience = 'server2') {
  const iat = Math.floor(Date.now() / 1000);
  const payload = b64({
    iss: issuer,
    sub: 'server1',
    aud: audience,
    scope: 'activity:read',
    jti: 'flood',
    iat,
    exp: iat + 60,
  });
  return () => {
    const header = b64({ alg: 'EdDSA', kid: randomBytes(32).toString('base64url'), typ: 'service+jwt' });
    return `${header}.${payload}.${randomBytes(64).toString('base64url')}`;
  };
}
