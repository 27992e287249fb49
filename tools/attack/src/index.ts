export {
  type Attack,
  type AttackResult,
  FAILING_VERDICTS,
  FAMILIES,
  type Family,
  type Outcome,
  type Verdict,
} from './attack.js';
export { ATTACKS, FINAL_CHECKS, qualifiedId } from './catalogue.js';
export { CLI_DEFAULTS, type CliOptions, parseCliOptions, USAGE } from './cli-options.js';
export { EVIL_HOST, offSitePayloads, redirectUriPayloads } from './families/redirect-payloads.js';
export { type PublishedJwk, type SecretForm, secretForms } from './jws/published-key.js';
export { ed25519SPlusL, es256HighS, withSpareBits } from './jws/respell.js';
export { formatReport, reportJson, summaryLine } from './report-table.js';
export { exitCodeOf, type Report, RUN_DEFAULTS, type RunOptions, runAttacks } from './run-attacks.js';
