// @ts-check
// Scenario 5, memory: server2's resident set size and the rows of its replay table
// (server2_used_jtis on /metrics) after 10k and after 200k handoffs in one run.
//
// Why the replay table is bounded: a row is written at the callback and expires at the token's
// exp plus the leeway (65 s later for a 60 s token); server2's purge deletes expired rows every
// 60 s. So no row outlives its insertion by more than 125 s, and at any moment the table holds
// at most the handoffs of the last 125 s (plus those in flight): lifetime × rate, not the total.
// The sampler checks exactly that against server2's own completed-handoff counter.
import { setTimeout as sleep } from 'node:timers/promises';
import { metricValue, rssBytes } from '../lib/metrics.mjs';
import { startServer2 } from '../lib/server2.mjs';
import { summarize } from '../lib/stats.mjs';
import { atMost } from '../lib/targets.mjs';
import { forkWorker } from '../lib/worker-process.mjs';

/**
 * @import { DirectRun } from '../drivers/direct-handoffs.mjs'
 * @import { ScenarioContext, ScenarioResult } from '../lib/report.mjs'
 */

/**
 * server2 read at one moment.
 * @typedef {object} Sample
 * @property {number} at when (ms since the epoch)
 * @property {number} rss server2's resident set size, bytes
 * @property {number} rows rows in its replay table
 * @property {number} completed handoffs it has completed so far
 */

/**
 * A sample after a given number of handoffs, with the sessions server2 holds then.
 * @typedef {Sample & { handoffs: number, sessions: number }} Checkpoint
 */

export const id = 5;
export const title = 'Memory';

const CONCURRENCY = 16;
const USERS = 1000;
const TOKEN_LIFETIME_SEC = 60;
const LEEWAY_SEC = 5;
const PURGE_INTERVAL_SEC = 60;
const SAMPLE_EVERY_MS = 2_000;
// The longest a replay row can live: token lifetime + leeway + the purge interval, plus a second
// for whole-second expiry times.
const ROW_LIFE_MS = (TOKEN_LIFETIME_SEC + LEEWAY_SEC + PURGE_INTERVAL_SEC + 1) * 1000;
const COMPLETED = 'server2_handoffs_total{outcome="completed"}';
const thousands = (/** @type {number} */ n) => `${n / 1000}k`;
const mib = (/** @type {number} */ bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/**
 * @param {ScenarioContext} context
 * @returns {Promise<ScenarioResult>}
 */
export async function run({ issuer, options, log }) {
  // --quick checks the same property on a smaller scale: memory after warm-up does not grow
  // with the number of handoffs.
  const [first, second] = options.quick ? [5_000, 20_000] : [10_000, 200_000];
  const server2 = await startServer2(issuer, {}, { nodeFlags: options.nodeFlags('server2-memory') });
  const driver = await forkWorker(new URL('../drivers/direct-handoffs.mjs', import.meta.url), {
    execArgv: options.nodeFlags('direct-handoffs'),
  });
  /** @returns {Promise<Sample>} */
  const read = async () => ({
    at: Date.now(),
    rss: rssBytes(server2.pid()),
    rows: await metricValue(server2.url, 'server2_used_jtis'),
    completed: await metricValue(server2.url, COMPLETED),
  });
  /** @type {Sample[]} */
  const samples = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push(await read());
      await sleep(SAMPLE_EVERY_MS);
    }
  })();
  /** @type {(handoffs: number) => Promise<Checkpoint>} */
  const checkpoint = async (handoffs) => {
    await sleep(1_000); // let the last responses settle
    const point = {
      handoffs,
      ...(await read()),
      sessions: await metricValue(server2.url, 'server2_sessions'),
    };
    log(`  after ${handoffs}: RSS ${mib(point.rss)}, ${point.rows} replay rows, ${point.sessions} sessions`);
    return point;
  };
  /** @type {Checkpoint} */
  let early;
  /** @type {Checkpoint} */
  let late;
  /** @type {DirectRun} */
  let firstRun;
  /** @type {DirectRun} */
  let secondRun;
  try {
    await driver.call('setup', {
      server2Url: server2.url,
      signer: issuer.signer,
      connections: CONCURRENCY,
      users: USERS,
    });
    firstRun = await driver.call('run', { count: first, concurrency: CONCURRENCY });
    early = await checkpoint(first);
    secondRun = await driver.call('run', { count: second - first, concurrency: CONCURRENCY });
    late = await checkpoint(second);
  } finally {
    sampling = false;
    await sampler;
    await driver.stop();
    await server2.stop();
  }
  if (late.completed !== second) throw new Error(`server2 counted ${late.completed} completed handoffs`);

  const runs = [firstRun, secondRun];
  const rate = second / (firstRun.seconds + secondRun.seconds);
  // For each sample: its rows against the handoffs completed in the ROW_LIFE_MS before it (read
  // from the last sample at least that old, which can only widen the window), plus those in flight.
  const windows = [...samples, early, late].map((sample) => {
    const before = samples.filter((s) => s.at <= sample.at - ROW_LIFE_MS).at(-1);
    return {
      at: sample.at,
      rows: sample.rows,
      allowed: sample.completed - (before?.completed ?? 0) + CONCURRENCY,
    };
  });
  const worst = windows.reduce((a, b) => (b.rows / b.allowed > a.rows / a.allowed ? b : a));
  const maxRows = Math.max(...windows.map((w) => w.rows));
  const rssRatio = late.rss / early.rss;
  return {
    unit: 'handoffs/s',
    setup:
      `one server2, ${CONCURRENCY} handoffs in flight (start, callback, complete), tokens minted by a key ` +
      `server2 trusts; ${USERS} users, each browser keeping its s2_session, sign in again and again`,
    measurements: [
      { name: `first ${first} handoffs`, rps: summarize([firstRun.rate]) },
      { name: `next ${second - first} handoffs`, rps: summarize([secondRun.rate]) },
    ],
    values: [
      { name: `RSS after ${first} handoffs`, text: mib(early.rss) },
      { name: `RSS after ${second} handoffs`, text: mib(late.rss) },
      { name: `replay rows after ${first} / ${second} handoffs`, text: `${early.rows} / ${late.rows}` },
      { name: 'most replay rows seen (sampled every 2 s)', text: String(maxRows) },
      {
        name: `closest sample to the bound: rows / handoffs of the ${ROW_LIFE_MS / 1000} s before it (+${CONCURRENCY})`,
        text: `${worst.rows} / ${worst.allowed}`,
      },
      {
        name: `so at a steady ${rate.toFixed(0)} handoffs/s the table holds at most about`,
        text: `${Math.round((rate * ROW_LIFE_MS) / 1000)} rows, whatever the total`,
      },
      { name: 'sessions after the run', text: String(late.sessions) },
    ],
    ratios: [
      { name: `RSS after ${thousands(second)} / after ${thousands(first)}`, ...summarize([rssRatio]) },
    ],
    targets: [
      atMost(
        `Memory: RSS after ${thousands(second)} handoffs at most 1.3x RSS after ${thousands(first)}`,
        summarize([rssRatio]),
        1.3,
        'always',
      ),
      atMost(
        'Memory: replay rows bounded by token lifetime (rows / handoffs in the last lifetime + leeway + purge interval)',
        summarize([worst.rows / worst.allowed]),
        1,
        'always',
      ),
    ],
    raw: { early, late, runs, samples },
  };
}
