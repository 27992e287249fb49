// @ts-check
// Scenario 3, full handoff: server1 and server2 as real processes (the testkit's startPair),
// browsers that already hold a server1 session doing whole handoffs (start, authorize, callback,
// complete) at 1, 8 and 32 concurrent users, each interleaved with the in-process bound (sign,
// verify, server2's store writes; no HTTP) at the same concurrency.
import { startPair } from '@jwt-handoff/testkit';
import { interleave, resultsOf } from '../lib/interleave.mjs';
import { pairedRatio, summarize } from '../lib/stats.mjs';
import { atLeast } from '../lib/targets.mjs';
import { forkWorker } from '../lib/worker-process.mjs';

/**
 * @import { BoundRound } from '../drivers/handoff-bound.mjs'
 * @import { BrowserRound } from '../drivers/handoff-browsers.mjs'
 * @import { ScenarioContext, ScenarioResult } from '../lib/report.mjs'
 * @import { Worker } from '../lib/worker-process.mjs'
 */

export const id = 3;
export const title = 'Full handoff';

const USERS = [1, 8, 32];

/**
 * @param {ScenarioContext} context
 * @returns {Promise<ScenarioResult>}
 */
export async function run({ options, log }) {
  const ms = options.quick ? 700 : 1500;
  const pair = await startPair({ server1Env: { LOG_LEVEL: 'warn' }, server2Env: { LOG_LEVEL: 'warn' } });
  /** @type {Worker[]} */
  const workers = [];
  /** @type {Record<string, (BrowserRound | BoundRound)[]>} */
  let results;
  try {
    const browsers = await forkWorker(new URL('../drivers/handoff-browsers.mjs', import.meta.url), {
      execArgv: options.nodeFlags('handoff-browsers'),
    });
    workers.push(browsers);
    const bound = await forkWorker(new URL('../drivers/handoff-bound.mjs', import.meta.url), {
      execArgv: options.nodeFlags('handoff-bound'),
    });
    workers.push(bound);
    log(`  signing ${Math.max(...USERS)} browsers in to server1`);
    await browsers.call('setup', {
      server1Url: pair.server1.url,
      server2Url: pair.server2.url,
      password: pair.demoPassword,
      users: Math.max(...USERS),
    });
    await bound.call('setup');
    const variants = USERS.flatMap((users) => [
      { name: `handoffs, ${users} users`, measure: () => browsers.call('round', { users, ms }) },
      {
        name: `in-process bound, ${users} in flight`,
        measure: () => bound.call('round', { inFlight: users, ms }),
      },
    ]);
    results = await interleave(variants, { rounds: options.rounds, log });
  } finally {
    for (const worker of workers) await worker.stop();
    await pair.close();
  }
  const rates = (/** @type {string} */ name) => resultsOf(results, name).map((result) => result.rate);
  const ratioAt = (/** @type {number} */ users) => ({
    name: `handoffs / bound at ${users} user${users > 1 ? 's' : ''}`,
    ...pairedRatio(rates(`handoffs, ${users} users`), rates(`in-process bound, ${users} in flight`)),
  });
  const ratios = USERS.map(ratioAt);
  return {
    unit: 'handoffs/s',
    setup: `startPair (server1 + server2), ${ms} ms per round; latency is one whole handoff (4 requests)`,
    measurements: Object.entries(results).map(([name, runs]) => ({
      name,
      rps: summarize(runs.map((r) => r.rate)),
      ...(runs.every((r) => 'p50' in r)
        ? { p50: summarize(runs.map((r) => r.p50)), p99: summarize(runs.map((r) => r.p99)) }
        : {}),
    })),
    ratios,
    targets: [
      atLeast('Full handoff at 8 concurrent users: at least 0.5x the in-process bound', ratioAt(8), 0.5),
    ],
    raw: results,
  };
}
