/**
 * `base` with `overrides` applied, for building test tokens: a member overridden with `undefined`
 * is left out, so that a test can drop a required claim as easily as change one.
 */
export function withOverrides(
  base: Record<string, unknown>,
  overrides: Record<string, unknown>,
): Record<string, unknown> {
  const claims: Record<string, unknown> = { ...base, ...overrides };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete claims[name];
  }
  return claims;
}

/** The claims of a test token: any JSON object, valid claims or not. */
export type Claims = Record<string, unknown>;
