// @ts-check
// Scenario 4, unknown-kid flood: server2 (cache on, the default) serving valid service tokens,
// with and without a second client sending tokens that name random kids, interleaved. Every
// unknown kid could make server2 refetch the JWKS; the cool-down must keep that to one fetch
// per cool-down, and the valid traffic must not suffer. The JWKS fetches are counted where
// they land: the bench issuer's JWKS endpoint, which stands in for server1's.
//
// The flood's rate is fixed (the issue names none). Refusing a token costs server2 about twice
// what serving a cached valid one does (it is parsed, its kid looked up, refused with a 401; the
// refusal's errors capture no stack trace, which had made it three times), and the flooding
// client needs CPU too, on the same two cores: a flood takes its share of the machine whatever
// the JWKS handling. The gated figure uses 250 requests/s (each a refetch, were there no
// cool-down); a full run also reports 1000/s. docs/benchmarks.md has the numbers.
import { interleave, resultsOf } from '../lib/interleave.mjs';
import { expectAllOk, startLoadGenerators } from '../lib/load.mjs';
import { startServer2 } from '../lib/server2.mjs';
import { pairedRatio, summarize } from '../lib/stats.mjs';
import { atLeast, atMost } from '../lib/targets.mjs';
import { createMinter } from '../lib/token-minter.mjs';

/**
 * @import { LoadResult, LoadSpec } from '../lib/load.mjs'
 * @import { ScenarioContext, ScenarioResult } from '../lib/report.mjs'
 */

/**
 * One flood run, with when it ran (ms since the epoch) and its rate.
 * @typedef {LoadResult & { rate: number, began: number, ended: number }} FloodRun
 */

export const id = 4;
export const title = 'Unknown-kid flood';

const PATH = '/api/users/user-bench/activity';
const CONNECTIONS = 32;
const FLOOD_CONNECTIONS = 8;
const GATED_RATE = 250;
const REPORTED_RATE = 1_000;
// server2's cool-down between refetches, set short so that several elapse during the run.
const COOLDOWN_MS = 5_000;
// Many short rounds from two load generators that stay up for the whole scenario, rather than a
// few long rounds from generators forked for each run: on a shared machine the throughput drifts
// over seconds, a flood run paired with the no-flood run right beside it cancels that drift, and
// warm generators do not add their own start-up to a 1 s run. (Rounds of 3 s from fresh
// generators gave medians of 0.79-0.89 in chunks of 9 rounds on one machine; rounds of 1 s from
// warm ones, 0.88-0.95.)
const DURATION_SEC = 1;
const MIN_ROUNDS = 27;

/**
 * @param {ScenarioContext} context
 * @returns {Promise<ScenarioResult>}
 */
export async function run({ issuer, options, log }) {
  const rates = options.quick ? [GATED_RATE] : [GATED_RATE, REPORTED_RATE];
  const minter = createMinter(issuer.signer);
  const server2 = await startServer2(
    issuer,
    { JWKS_COOLDOWN_MS: String(COOLDOWN_MS) },
    { nodeFlags: options.nodeFlags('server2-flood') },
  );
  // One generator for the valid tokens, one for the flood; the flood's stays idle in the
  // no-flood runs, so both kinds of run see the same processes.
  const generators = await startLoadGenerators(2, { nodeFlags: options.nodeFlags('autocannon') });
  /** @type {FloodRun[]} */
  const floods = [];
  /** @type {Record<string, LoadResult[]>} */
  let results;
  try {
    /** @returns {LoadSpec} */
    const valid = () => ({
      url: server2.url + PATH,
      connections: CONNECTIONS,
      durationSec: DURATION_SEC,
      headers: { authorization: `Bearer ${minter.service()}` },
    });
    /** @type {(rate: number) => LoadSpec} */
    const flood = (rate) => ({
      url: server2.url + PATH,
      connections: FLOOD_CONNECTIONS,
      durationSec: DURATION_SEC,
      overallRate: rate,
      randomKidIssuer: issuer.url,
    });
    const duringFlood = (/** @type {number} */ rate) => ({
      name: `valid tokens, flood of ${rate}/s`,
      measure: async (/** @type {number} */ round) => {
        const began = Date.now();
        const [validResult, floodResult] = await generators.measure([valid(), flood(rate)]);
        if (round >= 0) floods.push({ rate, began, ended: Date.now(), ...floodResult });
        return expectAllOk(validResult, `during the flood of ${rate}/s`);
      },
    });
    results = await interleave(
      [
        {
          name: 'valid tokens, no flood',
          measure: async () => expectAllOk((await generators.measure([valid()]))[0], 'no flood'),
        },
        ...rates.map(duringFlood),
      ],
      // A gated figure on a shared machine: as many rounds in a quick run as in a full one.
      { rounds: Math.max(options.rounds, MIN_ROUNDS), log },
    );
  } finally {
    await generators.stop();
    await server2.stop();
  }
  const from = Math.min(...floods.map((f) => f.began));
  const to = Math.max(...floods.map((f) => f.ended));
  const fetches = issuer.fetchesBetween(from, to);
  // One fetch when the window opens, then at most one per cool-down that elapses in it.
  const allowed = Math.floor((to - from) / COOLDOWN_MS) + 1;
  const sent = floods.reduce((sum, f) => sum + f.ok + f.non2xx + f.errors, 0);
  const refused = floods.reduce((sum, f) => sum + (f.statusCodes['401']?.count ?? 0), 0);
  const rps = (/** @type {string} */ name) => resultsOf(results, name).map((r) => r.rps);
  const floodRatio = (/** @type {number} */ rate) => ({
    name: `valid throughput, flood of ${rate}/s / no flood`,
    ...pairedRatio(rps(`valid tokens, flood of ${rate}/s`), rps('valid tokens, no flood')),
  });
  const ratios = rates.map(floodRatio);
  return {
    setup:
      `server2 with JWKS_COOLDOWN_MS=${COOLDOWN_MS}; valid: ${CONNECTIONS} connections, ${DURATION_SEC} s per run; ` +
      `flood: a second autocannon process (both stay up between runs), ${FLOOD_CONNECTIONS} connections at a fixed rate, a random kid per request`,
    measurements: [
      ...Object.entries(results).map(([name, runs]) => ({
        name,
        rps: summarize(runs.map((r) => r.rps)),
        p50: summarize(runs.map((r) => r.p50)),
        p99: summarize(runs.map((r) => r.p99)),
      })),
      ...rates.map((rate) => {
        const mine = floods.filter((f) => f.rate === rate);
        return {
          name: `the flood of ${rate}/s itself (refused)`,
          rps: summarize(mine.map((f) => f.totalRps)),
          p50: summarize(mine.map((f) => f.p50)),
          p99: summarize(mine.map((f) => f.p99)),
        };
      }),
    ],
    values: [
      { name: 'flood requests sent / refused with 401', text: `${sent} / ${refused}` },
      { name: 'JWKS fetches during the floods', text: `${fetches} in ${((to - from) / 1000).toFixed(1)} s` },
      { name: `allowed: one per ${COOLDOWN_MS / 1000} s cool-down, plus one`, text: String(allowed) },
      {
        name: 'JWKS fetches in the whole run so far (start-ups included)',
        text: String(issuer.fetches.length),
      },
    ],
    ratios,
    targets: [
      atMost('Flood: at most one JWKS fetch per cool-down', summarize([fetches / allowed]), 1, 'always'),
      atLeast(
        `Flood: valid throughput at least 0.8x the no-flood figure (flood of ${GATED_RATE}/s)`,
        floodRatio(GATED_RATE),
        0.8,
        'always',
      ),
      ...rates
        .filter((rate) => rate !== GATED_RATE)
        .map((rate) =>
          atLeast(
            `Flood: valid throughput at least 0.8x the no-flood figure (flood of ${rate}/s)`,
            floodRatio(rate),
            0.8,
            'reported',
          ),
        ),
    ],
    raw: { results, floods, fetches, allowed },
  };
}
