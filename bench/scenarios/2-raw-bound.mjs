// @ts-check
// Scenario 2, raw bound: in one process, raw Ed25519 crypto.verify over a service token's
// signing input against jwt-handoff's verifier (cache off) on the same token, interleaved.
// bare jose.jwtVerify runs alongside for reference.
import { interleave, resultsOf } from '../lib/interleave.mjs';
import { pairedRatio, summarize } from '../lib/stats.mjs';
import { atLeast } from '../lib/targets.mjs';
import { forkWorker } from '../lib/worker-process.mjs';

/**
 * @import { VerifyRound } from '../drivers/raw-verify.mjs'
 * @import { ScenarioContext, ScenarioResult } from '../lib/report.mjs'
 */

export const id = 2;
export const title = 'Raw bound: crypto.verify against the verifier, in one process';

const IN_FLIGHT = 64;

/**
 * @param {ScenarioContext} context
 * @returns {Promise<ScenarioResult>}
 */
export async function run({ options, log }) {
  const ms = options.quick ? 500 : 1000;
  const driver = await forkWorker(new URL('../drivers/raw-verify.mjs', import.meta.url), {
    execArgv: options.nodeFlags('raw-verify'),
  });
  /** @type {Record<string, VerifyRound[]>} */
  let results;
  try {
    /** @type {string[]} */
    const names = await driver.call('setup');
    results = await interleave(
      names.map((name) => ({ name, measure: () => driver.call('round', { name, ms, inFlight: IN_FLIGHT }) })),
      { rounds: options.rounds, log },
    );
  } finally {
    await driver.stop();
  }
  const rates = (/** @type {string} */ name) => resultsOf(results, name).map((result) => result.rate);
  const raw = 'crypto.verify (raw Ed25519)';
  const ours = 'jwt-handoff verifier (cache off)';
  const jose = 'jose jwtVerify';
  const oursToRaw = pairedRatio(rates(ours), rates(raw));
  return {
    unit: 'verifications/s',
    setup: `one process, ${IN_FLIGHT} verifications in flight, ${ms} ms per round, a service token`,
    measurements: Object.keys(results).map((name) => ({ name, rps: summarize(rates(name)) })),
    ratios: [
      { name: 'verifier / crypto.verify', ...oursToRaw },
      { name: 'jose jwtVerify / crypto.verify', ...pairedRatio(rates(jose), rates(raw)) },
      { name: 'verifier / jose jwtVerify', ...pairedRatio(rates(ours), rates(jose)) },
    ],
    targets: [
      atLeast(
        "API verification without the cache: the verifier's in-process rate at least 0.75x raw crypto.verify",
        oursToRaw,
        0.75,
      ),
    ],
    raw: results,
  };
}
