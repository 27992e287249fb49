import { type JWTHeaderParameters, jwtVerify } from 'jose';
import type { TokenReason } from '../errors.js';
import { type KeyOrigin, type KeySource, KeySourceUnavailableError } from '../keys/key-source.js';
import type { BaseClaims } from './claims.js';
import { reasonForVerificationError } from './jose-reason.js';
import type { TokenProfile } from './profiles.js';
import type { ReplayStore } from './replay-store.js';
import { traceJtiConsumed, traceSignedChecks, type VerificationTrace } from './verification-trace.js';
import {
  stillInTime,
  VERIFIED_TOKEN_CACHE_DEFAULTS,
  VerifiedTokenCache,
  type VerifiedTokenCacheOptions,
} from './verified-token-cache.js';

/** Signature algorithms a verifier may be configured with. HS* and RS* are deliberately absent. */
export const SUPPORTED_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type SigningAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** Defaults of {@link VerifierOptions}, with units. */
export const VERIFIER_DEFAULTS: Readonly<{ clockToleranceSec: number; maxTokenBytes: number }> =
  Object.freeze({
    /** Clock leeway applied to exp, nbf and iat, in seconds. */
    clockToleranceSec: 5,
    /** Tokens longer than this many bytes are refused before any parsing. */
    maxTokenBytes: 8 * 1024,
  });

/** Options of {@link createVerifier}. */
export interface VerifierOptions {
  /** The one token kind this verifier accepts. */
  profile: TokenProfile;
  /** The exact `iss` expected: the issuer's public URL. */
  issuer: string;
  /** This service's own client id, the only `aud` accepted. */
  audience: string;
  /** Allowed signature algorithms, from configuration; the token's own `alg` never widens this. */
  algorithms: readonly SigningAlgorithm[];
  /**
   * Where the public keys come from. With `hasKid`, a cached token whose key has left the key
   * set is verified afresh (and so refused) instead of being served from the cache.
   */
  keySource: Pick<KeySource, 'getKey' | 'hasKid' | 'getKeyWithOrigin'>;
  /** Needed for single-use profiles: remembers (iss, jti) until the token expires. */
  replayStore?: ReplayStore;
  /**
   * Revocation hook: resolves true to refuse an otherwise valid token (`token_revoked`). Given the
   * verification's trace, when there is one, it records what it compared.
   */
  isRevoked?: (claims: BaseClaims, trace?: VerificationTrace) => boolean | Promise<boolean>;
  /** Clock leeway in seconds. Default 5. */
  clockToleranceSec?: number;
  /** Size cap in bytes. Default 8192. */
  maxTokenBytes?: number;
  /** Lowers the profile's largest `exp - iat`, in seconds; it can never raise it. */
  maxLifetimeSec?: number;
  /** The clock, in milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /**
   * The verified-token cache, used only for reusable profiles (`singleUse: false`, i.e. service
   * tokens); single-use tokens are always verified in full. On by default with
   * `VERIFIED_TOKEN_CACHE_DEFAULTS` (10000 entries); `false` turns it off.
   */
  verifiedTokenCache?: VerifiedTokenCacheOptions | false;
}

/** A verified token. */
export interface VerifiedToken<C extends BaseClaims = BaseClaims> {
  readonly ok: true;
  readonly claims: C;
  readonly header: JWTHeaderParameters;
}

/** A refused token, with the reason code of docs/design.md section 5 and a message safe to show. */
export interface RejectedToken {
  readonly ok: false;
  readonly reason: TokenReason;
  readonly message: string;
}

export type VerificationResult<C extends BaseClaims = BaseClaims> = VerifiedToken<C> | RejectedToken;

/**
 * Verifies one kind of token; never throws for bad input, only for bugs. Given a `trace` (see
 * `startTrace`), a full verification records each check in it as it passes, with the values
 * compared, so an accepted token's trace holds every check made (a refused one's stops before the
 * check that failed; callers discard it). A cache hit records nothing. Without a trace, nothing is
 * recorded and nothing is allocated for it.
 */
export type TokenVerifier<C extends BaseClaims = BaseClaims> = (
  token: string | undefined,
  trace?: VerificationTrace,
) => Promise<VerificationResult<C>>;

// Three base64url segments; the signature may be empty so that `alg: none` reaches the
// algorithm check and is reported as unsupported_alg rather than as malformed.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_JTI_LENGTH = 256;

/**
 * Builds the verifier for one token profile. Options are checked here, once, so that a
 * misconfiguration stops the service at start rather than letting tokens through later.
 */
export function createVerifier<C extends BaseClaims = BaseClaims>(
  options: VerifierOptions,
): TokenVerifier<C> {
  // Options left undefined take their defaults rather than overwriting them.
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const settings = { ...VERIFIER_DEFAULTS, now: Date.now, ...given } as Required<VerifierOptions>;
  checkOptions(settings);
  const { profile, issuer, audience, keySource, replayStore, isRevoked, now } = settings;
  const tolerance = settings.clockToleranceSec;
  const maxBytes = settings.maxTokenBytes;
  const maxLifetime = Math.min(settings.maxLifetimeSec ?? profile.maxLifetimeSec, profile.maxLifetimeSec);
  const cacheOption = settings.verifiedTokenCache ?? VERIFIED_TOKEN_CACHE_DEFAULTS;
  // Single-use tokens are never cached: each presentation must reach the replay store.
  const cache =
    profile.singleUse || cacheOption === false ? undefined : new VerifiedTokenCache<C>(cacheOption);
  const joseOptions = {
    algorithms: [...settings.algorithms],
    issuer,
    audience,
    typ: profile.typ,
    requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti', ...profile.requiredClaims],
    clockTolerance: tolerance,
  };

  return async function verify(token, trace) {
    if (typeof token !== 'string' || token.length === 0)
      return reject('token_missing', 'no token was presented');
    // The cap comes before any decoding (and before the cache hashes the string), so an
    // oversized token costs nothing to refuse.
    if (token.length > maxBytes) return reject('token_too_large', `the token is over ${maxBytes} bytes`);

    const nowMs = now();
    // A hit is the identical string of a token that passed every check of a full verification
    // (size, shape, canonical spelling, signature, claims), and those depend on the string
    // alone, so a hit skips them. What can change for the same string is re-checked below.
    if (cache) {
      const hit = cache.get(token);
      if (hit) {
        // Time, the key's presence and revocation can change: a hit failing the first two is
        // dropped and verified afresh, so it is refused with the same reason as any token.
        const kid = hit.header.kid;
        const keyStillPublished =
          keySource.hasKid === undefined || (kid !== undefined && keySource.hasKid(kid));
        if (keyStillPublished && stillInTime(hit.claims, nowMs, tolerance)) {
          if (isRevoked && (await isRevoked(hit.claims)))
            return reject('token_revoked', 'the token was revoked');
          return { ok: true, claims: hit.claims, header: hit.header };
        }
        cache.delete(token);
      }
    }

    if (Buffer.byteLength(token) > maxBytes) {
      return reject('token_too_large', `the token is over ${maxBytes} bytes`);
    }
    if (!COMPACT_JWS.test(token)) return reject('token_malformed', 'the token is not a compact JWS');
    // base64url leaves 2 or 4 spare bits in a segment's last character, which decoders ignore, so
    // a genuine token would verify in up to 16 spellings made without the key. Only the canonical
    // one (spare bits zero, as every encoder writes them) is accepted: a token has one spelling,
    // ECDSA's (r, n - s) aside, which is why the replay store keys on (iss, jti).
    if (!isCanonicalCompact(token)) {
      return reject('token_malformed', 'the token is not in canonical base64url');
    }

    let payload: C;
    let header: JWTHeaderParameters;
    let keyOrigin: KeyOrigin | undefined;
    const getKeyWithOrigin = trace && keySource.getKeyWithOrigin;
    try {
      // Only keySource.getKey picks the key (by kid): jwk, jku, x5u and x5c headers are never read.
      // A traced verification asks the same lookup to say where the key came from.
      const getKey: typeof keySource.getKey = getKeyWithOrigin
        ? async (...args) => {
            const found = await getKeyWithOrigin(...args);
            keyOrigin = found.origin;
            return found.key;
          }
        : keySource.getKey;
      const result = await jwtVerify<C>(token, getKey, {
        ...joseOptions,
        currentDate: new Date(nowMs),
      });
      payload = result.payload as C;
      header = result.protectedHeader;
    } catch (err) {
      if (err instanceof KeySourceUnavailableError) return reject('jwks_unavailable', err.message);
      const reason = reasonForVerificationError(err);
      if (reason === undefined) throw err;
      return reject(reason, (err as Error).message);
    }

    const nowSec = nowMs / 1000;
    // jose accepts an audience array containing ours; a token minted for us names only us.
    if (typeof payload.aud !== 'string') return reject('invalid_audience', 'aud must be a single client id');
    if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > MAX_JTI_LENGTH) {
      return reject('token_malformed', 'jti must be a non-empty string');
    }
    if (
      profile.requiredClaims.includes('sub') &&
      (typeof payload.sub !== 'string' || payload.sub.length === 0)
    ) {
      return reject('token_malformed', 'sub must be a non-empty string');
    }
    // jose checks iat only with maxTokenAge; a token "issued" in the future is not yet valid.
    if (payload.iat > nowSec + tolerance) return reject('token_not_yet_valid', 'iat is in the future');
    const shapeProblem = profile.checkClaims(payload);
    if (shapeProblem) return reject('token_malformed', shapeProblem);
    if (payload.exp <= payload.iat) return reject('token_malformed', 'exp must be after iat');
    // A short lifetime is what makes a stolen token nearly worthless; refuse longer-lived ones
    // even when the issuer's key signed them.
    if (payload.exp - payload.iat > maxLifetime) {
      return reject('lifetime_too_long', `exp - iat is over ${maxLifetime} s`);
    }
    if (trace) {
      traceSignedChecks(trace, {
        header,
        claims: payload,
        keyOrigin,
        allowedAlgorithms: settings.algorithms,
        typ: profile.typ,
        issuer,
        audience,
        nowMs,
        toleranceSec: tolerance,
        maxLifetimeSec: maxLifetime,
      });
    }
    if (isRevoked && (await isRevoked(payload, trace)))
      return reject('token_revoked', 'the token was revoked');
    // Last, so that only a token that passed every other check uses up its jti.
    if (profile.singleUse && replayStore) {
      const first = await replayStore.markUsed(payload.iss, payload.jti, payload.exp + tolerance);
      if (!first) return reject('token_replayed', 'the token was already used');
      if (trace) traceJtiConsumed(trace, payload, payload.exp + tolerance);
    }
    // Only a token that passed every check is cached.
    if (cache) {
      const entry = cache.set(token, payload, header);
      return { ok: true, claims: entry.claims, header: entry.header };
    }
    return { ok: true, claims: payload, header };
  };
}

// Value of each base64url character (the regex above has already checked the alphabet).
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * Whether each of the three segments of `token` (already matched by COMPACT_JWS) is the one
 * spelling an encoder writes. Walks the two dots in place rather than splitting, since this runs
 * on every verification, cache hits included.
 */
function isCanonicalCompact(token: string): boolean {
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  return (
    isCanonicalSegment(token, 0, firstDot) &&
    isCanonicalSegment(token, firstDot + 1, secondDot) &&
    isCanonicalSegment(token, secondDot + 1, token.length)
  );
}

/**
 * Whether `token[start, end)` is canonical base64url: no lone trailing character, and the spare
 * low bits of the last character zero. Decided from the last character alone, with no decoding.
 */
function isCanonicalSegment(token: string, start: number, end: number): boolean {
  const spare = (end - start) % 4;
  if (spare === 0) return true;
  if (spare === 1) return false;
  const last = BASE64URL.indexOf(token[end - 1] as string);
  // Two characters left over carry 8 bits of 12 (4 spare); three carry 16 of 18 (2 spare).
  return (last & (spare === 2 ? 0b1111 : 0b11)) === 0;
}

function reject(reason: TokenReason, message: string): RejectedToken {
  return { ok: false, reason, message };
}

function checkOptions(options: VerifierOptions & { clockToleranceSec: number; maxTokenBytes: number }): void {
  const { algorithms, profile } = options;
  if (algorithms.length === 0)
    throw new TypeError('verifier option "algorithms" must name at least one algorithm');
  for (const alg of algorithms) {
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new TypeError(
        `verifier option "algorithms": ${alg} is not allowed (use ${SUPPORTED_ALGORITHMS.join(', ')})`,
      );
    }
  }
  if (!options.issuer) throw new TypeError('verifier option "issuer" is required');
  if (!options.audience) throw new TypeError('verifier option "audience" is required');
  if (profile.singleUse && !options.replayStore) {
    throw new TypeError(`verifier option "replayStore" is required for single-use ${profile.typ} tokens`);
  }
  const tolerance = options.clockToleranceSec;
  if (typeof tolerance !== 'number' || !(tolerance >= 0 && tolerance <= 60)) {
    throw new TypeError('verifier option "clockToleranceSec" must be between 0 and 60');
  }
  if (typeof options.maxTokenBytes !== 'number' || !(options.maxTokenBytes > 0))
    throw new TypeError('verifier option "maxTokenBytes" must be positive');
  if (
    options.maxLifetimeSec !== undefined &&
    !(options.maxLifetimeSec > 0 && Number.isFinite(options.maxLifetimeSec))
  ) {
    throw new TypeError('verifier option "maxLifetimeSec" must be a positive number of seconds');
  }
  const cache = options.verifiedTokenCache;
  if (
    cache !== undefined &&
    cache !== false &&
    !(typeof cache === 'object' && Number.isSafeInteger(cache.maxEntries) && cache.maxEntries > 0)
  ) {
    throw new TypeError(
      'verifier option "verifiedTokenCache" must be false or { maxEntries: a positive integer }',
    );
  }
}
