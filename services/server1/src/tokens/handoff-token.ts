import { randomId, type SigningKey } from '@jwt-handoff/shared';
import { SignJWT } from 'jose';
import type { Session } from '../stores/session-store.js';
import type { User } from '../stores/user-store.js';

/** What a handoff token is minted from. */
export interface HandoffTokenInput {
  key: SigningKey;
  issuer: string;
  clientId: string;
  user: User;
  session: Session;
  /** The client's state, echoed as `nonce` so the client can bind the token to its browser. */
  nonce: string;
  ttlSec: number;
  now: number;
}

/** Mints a `handoff+jwt` (DESIGN.md section 3). */
export async function mintHandoffToken(input: HandoffTokenInput): Promise<string> {
  const iat = Math.floor(input.now / 1000);
  return new SignJWT({
    nonce: input.nonce,
    auth_time: Math.floor(input.session.createdAt / 1000),
    sid: input.session.sid,
    name: input.user.name,
    email: input.user.email,
  })
    .setProtectedHeader({ alg: input.key.alg, kid: input.key.kid, typ: 'handoff+jwt' })
    .setIssuer(input.issuer)
    .setSubject(input.user.id)
    .setAudience(input.clientId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + input.ttlSec)
    .setJti(randomId())
    .sign(input.key.privateKey);
}
