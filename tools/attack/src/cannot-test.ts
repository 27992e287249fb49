/**
 * The deployment cannot be attacked as it is (not ready, sign-in refused, pages not shaped as the
 * contract says): the run stops with exit status 2, so that "not tested" never passes as "safe".
 */
export class CannotTestError extends Error {
  override readonly name = 'CannotTestError';
}
