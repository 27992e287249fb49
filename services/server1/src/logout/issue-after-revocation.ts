/**
 * When a token for a user may be issued. A relying service refuses every token of a user whose
 * `iat` is at or before the second of that user's last "sign out everywhere" (docs/design.md,
 * "Tokens-valid-after, per user"): `iat` is a whole second, so a token minted in that same second
 * cannot be told apart from one minted just before the sign-out. A sign-in in that second would
 * get a token refused on arrival, so its token is issued at the start of the next second instead.
 *
 * Returns the issuing time in milliseconds: `nowMs`, or the first millisecond of the second after
 * `tokensValidAfterMs` when that is later (then less than one second away).
 */
export function issueTimeAfterRevocation(nowMs: number, tokensValidAfterMs: number | null): number {
  if (tokensValidAfterMs === null) return nowMs;
  const firstValidMs = (Math.floor(tokensValidAfterMs / 1000) + 1) * 1000;
  return Math.max(nowMs, firstValidMs);
}
