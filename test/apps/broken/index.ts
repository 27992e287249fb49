import type { FastifyInstance } from 'fastify';
import { buildAlgAllowlistRemovedApp } from './alg-allowlist-removed.js';
import { buildJtiCheckRemovedApp } from './jti-check-removed.js';
import { buildJwkHeaderTrustedApp } from './jwk-header-trusted.js';
import type { BrokenAppOptions } from './relying-app.js';
import { buildReturnToUncheckedApp } from './return-to-unchecked.js';
import { buildStateCheckRemovedApp } from './state-check-removed.js';
import { buildTypCheckRemovedApp } from './typ-check-removed.js';

export type { BrokenAppOptions } from './relying-app.js';

/** One deliberately broken relying app, and what `npm run attack` must catch it with. */
export interface BrokenApp {
  /** Its client id at server1, and its name in the test. */
  readonly id: string;
  readonly flaw: string;
  readonly build: (options: BrokenAppOptions) => Promise<FastifyInstance>;
  /** Attacks (family/id) that must fail against it. */
  readonly caughtBy: readonly string[];
  /** Every family with a failing attack: the one aimed at the flaw, and what the flaw also breaks. */
  readonly families: readonly string[];
}

export const BROKEN_APPS: readonly BrokenApp[] = [
  {
    id: 'broken-alg',
    flaw: 'alg allowlist removed',
    build: buildAlgAllowlistRemovedApp,
    caughtBy: ['signature/hs256-public-key-pem-trimmed'],
    families: ['signature'],
  },
  {
    id: 'broken-jti',
    flaw: 'jti check removed',
    build: buildJtiCheckRemovedApp,
    // A re-spelled token (spare base64url bits) is refused before the replay check, as
    // token_malformed: the verifier takes each segment only in its one canonical spelling.
    caughtBy: ['claims/replayed'],
    families: ['claims'],
  },
  {
    id: 'broken-state',
    flaw: 'state check removed',
    build: buildStateCheckRemovedApp,
    caughtBy: ['flow/login-csrf-pending-handoff', 'flow/login-csrf-no-handoff'],
    families: ['flow'],
  },
  {
    id: 'broken-return-to',
    flaw: 'return_to not checked',
    build: buildReturnToUncheckedApp,
    caughtBy: ['flow/open-redirect-server2-return-to'],
    // Unchecked, a return_to with a CR or LF reaches the Location header, which Node refuses: a 500.
    families: ['flow', 'robustness'],
  },
  {
    id: 'broken-typ',
    flaw: 'typ check removed',
    build: buildTypCheckRemovedApp,
    caughtBy: ['claims/handoff-as-bearer', 'claims/handoff-as-logout'],
    families: ['claims'],
  },
  {
    id: 'broken-jwk',
    flaw: 'a jwk header trusted',
    build: buildJwkHeaderTrustedApp,
    caughtBy: ['key-selection/jwk-embedded', 'key-selection/jwk-embedded-own-kid'],
    families: ['key-selection'],
  },
];
