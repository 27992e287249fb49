import { errors } from 'jose';
import type { TokenReason } from '../errors.js';
import { KeyRevokedError } from '../keys/key-source.js';

/**
 * Translates an error thrown inside jose (or by a key source) into a reason code (docs/design.md section 5).
 * This is the verifier's edge: nothing jose-specific leaves it. An error we do not recognise is
 * returned as undefined so that the caller treats it as a bug rather than as bad input.
 */
export function reasonForVerificationError(err: unknown): TokenReason | undefined {
  if (err instanceof KeyRevokedError) return 'key_revoked';
  if (err instanceof errors.JWTClaimValidationFailed) {
    // "missing" and "invalid" (e.g. a string iat) describe a badly built token, not a bad time.
    if (err.reason === 'missing' || err.reason === 'invalid') return 'token_malformed';
    switch (err.claim) {
      case 'typ':
        return 'invalid_type';
      case 'iss':
        return 'invalid_issuer';
      case 'aud':
        return 'invalid_audience';
      case 'nbf':
      case 'iat':
        return 'token_not_yet_valid';
      default:
        return 'token_malformed';
    }
  }
  if (err instanceof errors.JOSEError) {
    switch (err.code) {
      case 'ERR_JWT_EXPIRED':
        return 'token_expired';
      case 'ERR_JOSE_ALG_NOT_ALLOWED':
      case 'ERR_JOSE_NOT_SUPPORTED':
        return 'unsupported_alg';
      case 'ERR_JWKS_NO_MATCHING_KEY':
      case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
        return 'unknown_kid';
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        return 'invalid_signature';
      case 'ERR_JWKS_TIMEOUT':
      case 'ERR_JWKS_INVALID':
        return 'jwks_unavailable';
      case 'ERR_JWS_INVALID':
      case 'ERR_JWT_INVALID':
        return 'token_malformed';
      default:
        return undefined;
    }
  }
  return undefined;
}
