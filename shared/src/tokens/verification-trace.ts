import type { JWTHeaderParameters } from 'jose';
import type { KeyOrigin } from '../keys/key-source.js';
import type { BaseClaims } from './claims.js';

/**
 * The checks a trace can record, in the order the handoff's verification makes them
 * (docs/design.md section 4): the verifier's own, then the completion's (nonce, revocation again).
 */
export type TraceCheck =
  | 'header'
  | 'signature'
  | 'typ'
  | 'iss'
  | 'aud'
  | 'exp'
  | 'nbf'
  | 'iat'
  | 'lifetime'
  | 'revocation'
  | 'jti'
  | 'nonce';

/** A compared value: text, or a time (ms since the epoch) that a page shows as "in 42 s" and ISO. */
export type TraceValue =
  | { readonly label: string; readonly text: string }
  | { readonly label: string; readonly atMs: number };

/** One line of a trace: the rule, and the values it compared, as the check saw them. */
export interface TraceEntry {
  readonly check: TraceCheck;
  /** The rule in words, e.g. "iss equals the configured issuer". */
  readonly rule: string;
  readonly values: readonly TraceValue[];
}

/**
 * What a verifier did for one token it accepted, recorded by the verifier as it checked, not
 * re-derived afterwards. Plain JSON, so that a store keeps it with the session as it is.
 */
export interface VerificationTrace {
  /** When verification ran, by the verifier's clock, in ms since the epoch. */
  readonly verifiedAtMs: number;
  /** The token with its signature shortened: no longer a token anyone could present. */
  readonly shortenedToken: string;
  readonly entries: TraceEntry[];
}

/** How many characters of the signature a shortened token keeps. */
const SIGNATURE_SHOWN = 8;

/**
 * Starts a trace for `token`. A caller that wants one passes it to the verifier; a verifier given
 * none records nothing and allocates nothing for it, so untraced verifications cost no more.
 */
export function startTrace(token: string, verifiedAtMs: number): VerificationTrace {
  const lastDot = token.lastIndexOf('.');
  const signature = token.slice(lastDot + 1);
  const shortenedToken =
    lastDot < 0 || signature.length <= SIGNATURE_SHOWN
      ? token
      : `${token.slice(0, lastDot + 1 + SIGNATURE_SHOWN)}…(${signature.length - SIGNATURE_SHOWN} more)`;
  return { verifiedAtMs, shortenedToken, entries: [] };
}

/** Appends one line to `trace`. */
export function traceCheck(
  trace: VerificationTrace,
  check: TraceCheck,
  rule: string,
  values: readonly TraceValue[],
): void {
  trace.entries.push({ check, rule, values });
}

const text = (label: string, value: unknown): TraceValue => ({ label, text: String(value) });
const time = (label: string, atMs: number): TraceValue => ({ label, atMs });

/** What the verifier knew when jose's checks (signature, typ, iss, aud, exp, nbf) had passed. */
export interface SignedChecks {
  header: JWTHeaderParameters;
  claims: BaseClaims;
  /** Where the key came from, when the key source can say. */
  keyOrigin: KeyOrigin | undefined;
  allowedAlgorithms: readonly string[];
  typ: string;
  issuer: string;
  audience: string;
  nowMs: number;
  toleranceSec: number;
  maxLifetimeSec: number;
}

/**
 * Records the checks made up to the lifetime cap, with the values each compared. Called by the
 * verifier once they have all passed, so every line it writes is a check that held.
 */
export function traceSignedChecks(trace: VerificationTrace, checked: SignedChecks): void {
  const { header, claims, keyOrigin, nowMs, toleranceSec } = checked;
  const leeway = text('leeway', `${toleranceSec} s`);
  traceCheck(
    trace,
    'header',
    'the header is decoded; alg must be one configured, never taken from the token',
    [
      text('alg', header.alg),
      text('kid', header.kid),
      text('typ', header.typ),
      text('allowed', checked.allowedAlgorithms.join(', ')),
    ],
  );
  traceCheck(
    trace,
    'signature',
    keyOrigin
      ? `the signature verifies with key ${keyOrigin.kid} from ${keyOrigin.source}`
      : `the signature verifies with key ${header.kid}`,
    keyOrigin
      ? [
          text('kid', keyOrigin.kid),
          text('key alg', keyOrigin.alg),
          text('key set from', keyOrigin.source),
          ...(keyOrigin.fetchedAtMs === undefined ? [] : [time('key set fetched', keyOrigin.fetchedAtMs)]),
          text(
            'key lookup',
            keyOrigin.fetched ? 'fetch (waited for the key set)' : 'cache hit (held key set, no request)',
          ),
        ]
      : [text('kid', header.kid)],
  );
  traceCheck(trace, 'typ', 'typ equals this verifier’s one kind', [
    text('token', header.typ),
    text('expected', checked.typ),
  ]);
  traceCheck(trace, 'iss', 'iss equals the configured issuer', [
    text('token', claims.iss),
    text('configured', checked.issuer),
  ]);
  traceCheck(trace, 'aud', 'aud equals this service’s client id', [
    text('token', claims.aud),
    text('client id', checked.audience),
  ]);
  traceCheck(trace, 'exp', 'exp is after the clock, less the leeway', [
    time('exp', claims.exp * 1000),
    time('clock', nowMs),
    leeway,
  ]);
  traceCheck(
    trace,
    'nbf',
    'nbf, when present, is before the clock, plus the leeway',
    claims.nbf === undefined
      ? [text('nbf', 'absent (valid from iat)')]
      : [time('nbf', claims.nbf * 1000), time('clock', nowMs), leeway],
  );
  traceCheck(trace, 'iat', 'iat is not in the future, beyond the leeway', [
    time('iat', claims.iat * 1000),
    time('clock', nowMs),
    leeway,
  ]);
  traceCheck(trace, 'lifetime', 'exp − iat is within the lifetime cap', [
    text('exp − iat', `${claims.exp - claims.iat} s`),
    text('cap', `${checked.maxLifetimeSec} s`),
  ]);
}

/** Records that the token's jti was consumed here, first use, and until when it stays recorded. */
export function traceJtiConsumed(trace: VerificationTrace, claims: BaseClaims, untilSec: number): void {
  traceCheck(trace, 'jti', 'jti is used for the first time, and is now consumed', [
    text('jti', claims.jti),
    text('use', 'first'),
    time('recorded until', untilSec * 1000),
  ]);
}
