import {
  AppError,
  createVerifier,
  type HandoffClaims,
  handoffVerifierOptions,
  type RelyingParty,
  type TokenReason,
  type TokenVerifier,
  type VerificationResult,
} from '@jwt-handoff/shared';
import {
  decodeProtectedHeader,
  errors,
  type JWTHeaderParameters,
  type JWTPayload,
  type ProtectedHeaderParameters,
} from 'jose';

/** The plugin's own handoff verifier, rebuilt from what `app.relyingParty` exposes: sound. */
export function soundHandoffVerifier(rp: RelyingParty): TokenVerifier<HandoffClaims> {
  const { options } = rp;
  return createVerifier<HandoffClaims>({
    issuer: options.issuer,
    audience: options.clientId,
    algorithms: options.algorithms,
    keySource: rp.keys,
    clockToleranceSec: options.clockToleranceSec,
    ...handoffVerifierOptions({
      replayStore: rp.stores.usedJtis,
      isRevoked: (claims) => rp.revocation.isRevoked(claims),
    }),
  });
}

/** The header of `token`, or undefined when it has none that parses. */
export function headerOf(token: string | undefined): ProtectedHeaderParameters | undefined {
  try {
    return token ? decodeProtectedHeader(token) : undefined;
  } catch {
    return undefined;
  }
}

/** The reason code for an error jose threw, as the shared verifier would name it. */
export function reasonFor(err: unknown): TokenReason {
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing' || err.reason === 'invalid') return 'token_malformed';
    const byClaim: Record<string, TokenReason> = {
      typ: 'invalid_type',
      iss: 'invalid_issuer',
      aud: 'invalid_audience',
      nbf: 'token_not_yet_valid',
      iat: 'token_not_yet_valid',
    };
    return byClaim[err.claim] ?? 'token_malformed';
  }
  const byCode: Record<string, TokenReason> = {
    ERR_JWT_EXPIRED: 'token_expired',
    ERR_JOSE_ALG_NOT_ALLOWED: 'unsupported_alg',
    ERR_JOSE_NOT_SUPPORTED: 'unsupported_alg',
    ERR_JWKS_NO_MATCHING_KEY: 'unknown_kid',
    ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'invalid_signature',
  };
  return byCode[(err as { code?: string }).code ?? ''] ?? 'token_malformed';
}

/**
 * Finishes a hand-rolled verification as the sound one would: the single use of the jti last.
 * `verify` runs jose with whatever the broken app forgot.
 */
export async function verifiedOnce<C extends JWTPayload>(
  rp: RelyingParty,
  token: string | undefined,
  verify: (token: string) => Promise<{ payload: C; protectedHeader: JWTHeaderParameters }>,
): Promise<VerificationResult<HandoffClaims>> {
  if (!token) return { ok: false, reason: 'token_missing', message: 'no token' };
  if (token.length > 8192) return { ok: false, reason: 'token_too_large', message: 'over 8 KiB' };
  try {
    const { payload, protectedHeader } = await verify(token);
    const claims = payload as unknown as HandoffClaims;
    if (!(await rp.stores.usedJtis.markUsed(claims.iss, claims.jti, claims.exp + 5)))
      return { ok: false, reason: 'token_replayed', message: 'already used' };
    return { ok: true, claims, header: protectedHeader };
  } catch (err) {
    return { ok: false, reason: reasonFor(err), message: (err as Error).message };
  }
}

/** An API refusal as RFC 6750 has it: 401 with the reason. */
export function apiRefusal(reason: TokenReason): AppError {
  return new AppError(reason, `the token was refused: ${reason}`, {
    statusCode: 401,
    error: 'invalid_token',
  });
}
