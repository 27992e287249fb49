import type { AttackContext } from './context.js';

/** The groups the table is ordered by (docs/attack-self-test.md has one section each). */
export const FAMILIES = ['signature', 'key-selection', 'claims', 'flow', 'transport', 'robustness'] as const;
export type Family = (typeof FAMILIES)[number];

/**
 * How one attack ended.
 * - `refused`: the deployment turned it away as its contract says.
 * - `succeeded`: the attack got through (a forged token accepted, a redirect off-site, a
 *   sign-out forced). The run fails.
 * - `unexpected`: refused, but not the way the contract says (another reason code, a 5xx): a
 *   check is missing or runs in the wrong order, and a later one caught the attack. The run fails.
 * - `not-run`: not attempted, for the reason given (e.g. waiting out a long token lifetime).
 * - `not-observable`: attempted and refused, but the part that needs the deployment's metrics
 *   could not be seen. Neither a success of the attacker nor a failure of the tool.
 * - `error`: the tool could not carry the attack out (the deployment did not behave enough like
 *   itself to attack). The run fails as "could not test".
 */
export type Verdict = 'refused' | 'succeeded' | 'unexpected' | 'not-run' | 'not-observable' | 'error';

/** What an attack observed. */
export interface Outcome {
  readonly verdict: Verdict;
  /** What the deployment answered, in a few words. */
  readonly got: string;
}

/** One known attack, fired by {@link Attack.run}. */
export interface Attack {
  /** Stable id within its family; `--only` matches `family/id`. */
  readonly id: string;
  readonly family: Family;
  /** What is attempted, for the table. */
  readonly title: string;
  /** The endpoint attacked, e.g. `server2 POST /handoff/callback`. */
  readonly where: string;
  /** What a sound deployment answers. */
  readonly expected: string;
  /**
   * Runs after every attack without it: attacks that may end sessions (a forced sign-out that
   * succeeds) or that wait for a token to expire. `last` runs after `late`.
   */
  readonly phase?: 'late' | 'last';
  run(context: AttackContext): Promise<Outcome>;
}

/** One row of the table (and of the JSON file). */
export interface AttackResult {
  readonly id: string;
  readonly family: Family;
  readonly attack: string;
  readonly where: string;
  readonly expected: string;
  readonly got: string;
  readonly verdict: Verdict;
  /** How long the attack took, in milliseconds. */
  readonly ms: number;
}

/** Verdicts that make the run fail because an attack got through or a check misbehaved. */
export const FAILING_VERDICTS: readonly Verdict[] = ['succeeded', 'unexpected'];

export const refused = (got: string): Outcome => ({ verdict: 'refused', got });
export const succeeded = (got: string): Outcome => ({ verdict: 'succeeded', got });
export const unexpected = (got: string): Outcome => ({ verdict: 'unexpected', got });
export const notRun = (got: string): Outcome => ({ verdict: 'not-run', got });
