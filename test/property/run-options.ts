import type fc from 'fast-check';

/**
 * The `fc.assert` parameters of every property in this folder: `numRuns` cases, and a failing
 * run's seed and path replayed from the environment. A failure's message (which vitest prints)
 * names the seed and the path of the shrunk counterexample; to replay it:
 *
 *   FC_SEED=<seed> FC_PATH=<path> npx vitest run test/property -t '<the test's name>'
 *
 * FC_SEED alone reruns the whole property on that seed. `verbose` adds the failures met while
 * shrinking to the message.
 */
export function runOptions<T>(numRuns: number): fc.Parameters<T> {
  const seed = process.env.FC_SEED;
  const path = process.env.FC_PATH;
  return {
    numRuns,
    verbose: 1,
    ...(seed === undefined || seed === '' ? {} : { seed: Number(seed) }),
    // A path only means something on the seed it came from.
    ...(seed && path ? { path } : {}),
  };
}

/** The time a property of `numRuns` cases may take in a vitest test, in ms: generous, for shrinking. */
export const PROPERTY_TIMEOUT_MS = 180_000;
