import { randomBytes } from 'node:crypto';
import type { Deployment } from './deployment.js';
import { type AttackerKey, generateAttackerKey } from './jws/attacker-keys.js';

/** The back-channel logout event of OpenID Connect Back-Channel Logout 1.0. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** Drops members set to undefined, so an override can remove a header member or a claim. */
function defined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/**
 * What forged tokens are made of: the attacker's own keys, and headers and claims copied from the
 * deployment's real token, so that a forged token is right in every respect but the one attacked.
 */
export class Forger {
  readonly eddsa: AttackerKey = generateAttackerKey('EdDSA');
  readonly es256: AttackerKey = generateAttackerKey('ES256');

  constructor(private readonly deployment: Deployment) {}

  /** The deployment's signing algorithm, from its real token. */
  get alg(): string {
    return String(this.deployment.template.header.alg);
  }

  /** The attacker's key of the deployment's own algorithm. */
  get sameAlgKey(): AttackerKey {
    return this.alg === 'ES256' ? this.es256 : this.eddsa;
  }

  /** The attacker's key of the other supported algorithm. */
  get otherAlgKey(): AttackerKey {
    return this.alg === 'ES256' ? this.eddsa : this.es256;
  }

  /** The real token's header (alg, kid) with `typ` and `overrides`; an undefined override drops the member. */
  header(typ: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return defined({ alg: this.alg, kid: this.deployment.signingKey.kid, typ, ...overrides });
  }

  /** Claims of a handoff token for `nonce` that a sound verifier would accept but for its signature. */
  handoffClaims(nonce: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const { claims } = this.deployment.template;
    return defined({
      ...claims,
      ...this.times(this.deployment.tokenLifetimeSec),
      jti: newJti(),
      nonce,
      ...overrides,
    });
  }

  /** Claims of a service token calling server2's activity API. */
  serviceClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const { iss, aud } = this.deployment.template.claims;
    return defined({
      iss,
      sub: 'server1',
      aud,
      scope: 'activity:read',
      ...this.times(60),
      jti: newJti(),
      ...overrides,
    });
  }

  /** Claims of a logout token ending every server2 session of the signed-in user. */
  logoutClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const { iss, aud, sub, sid } = this.deployment.template.claims;
    return defined({
      iss,
      aud,
      sub,
      sid,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      ...this.times(120),
      jti: newJti(),
      ...overrides,
    });
  }

  private times(lifetimeSec: number) {
    const iat = Math.floor(Date.now() / 1000);
    return { iat, exp: iat + lifetimeSec };
  }
}

export function newJti(): string {
  return randomBytes(16).toString('base64url');
}
