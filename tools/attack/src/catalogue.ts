import type { Attack } from './attack.js';
import { claimsAttacks } from './families/claims.js';
import { crossSitePostAttacks } from './families/cross-site-posts.js';
import { handoffFlowAttacks } from './families/handoff-flow.js';
import { keySelectionAttacks } from './families/key-selection.js';
import { openRedirectAttacks } from './families/open-redirect.js';
import { robustnessChecks } from './families/robustness.js';
import { signatureAttacks } from './families/signature.js';
import { transportAttacks } from './families/transport.js';

/** Every attack, in the order of the table; `--only` picks from these. */
export const ATTACKS: readonly Attack[] = [
  ...signatureAttacks,
  ...keySelectionAttacks,
  ...claimsAttacks,
  ...handoffFlowAttacks,
  ...openRedirectAttacks,
  ...crossSitePostAttacks,
  ...transportAttacks,
];

/** The whole-run checks, made after the attacks whatever `--only` selects. */
export const FINAL_CHECKS: readonly Attack[] = robustnessChecks;

/** `family/id`, what `--only` matches. */
export const qualifiedId = (attack: Pick<Attack, 'family' | 'id'>) => `${attack.family}/${attack.id}`;
