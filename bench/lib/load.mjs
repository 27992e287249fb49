// @ts-check
// Load generation: autocannon in processes of their own (load-worker.mjs), kept up across runs.
import { forkWorker } from './worker-process.mjs';

/** @import { Worker } from './worker-process.mjs' */

/**
 * One autocannon run, as a load generator is asked for it.
 * @typedef {object} LoadSpec
 * @property {string} url
 * @property {number} connections
 * @property {number} durationSec
 * @property {Record<string, string>} [headers]
 * @property {number} [overallRate] requests per second over all connections; as fast as it can when absent
 * @property {string} [randomKidIssuer] an issuer URL: every request then carries a fresh token from
 *   that issuer naming a random kid (see token-minter.mjs createRandomKidTokens)
 */

/**
 * What a load generator reports for one run.
 * @typedef {object} LoadResult
 * @property {number} rps 2xx responses per second
 * @property {number} totalRps responses of any status per second
 * @property {number} p50 latency, ms
 * @property {number} p99 latency, ms
 * @property {number} ok how many 2xx responses
 * @property {number} non2xx how many other responses
 * @property {number} errors connection errors
 * @property {number} timeouts
 * @property {Record<string, { count: number }>} statusCodes responses per status code
 * @property {number} seconds how long the run took
 */

const WORKER = new URL('./load-worker.mjs', import.meta.url);

/**
 * `count` load generators (autocannon, each in a process of its own) that stay up across runs:
 * a process forked per run would measure its own warm-up (JIT, connections) along with the
 * server, and on a shared machine that was much of the noise of a short run. Every generator is
 * ready before any run begins. `measure(specs)` runs specs[i] on generator i, all at once, and
 * resolves with one result per spec.
 * @param {number} count
 * @param {{ nodeFlags?: string[] }} [options]
 */
export async function startLoadGenerators(count, { nodeFlags = [] } = {}) {
  const workers = await Promise.all(
    Array.from({ length: count }, () => forkWorker(WORKER, { execArgv: nodeFlags })),
  );
  return {
    /**
     * @template {LoadSpec[]} S
     * @param {[...S]} specs
     * @returns {Promise<{ [K in keyof S]: LoadResult }>}
     */
    measure(specs) {
      if (specs.length > workers.length) {
        throw new Error(`${specs.length} runs for ${workers.length} load generators`);
      }
      // Every index is below workers.length, checked above; each worker answers a LoadResult.
      const runs = specs.map((spec, i) => /** @type {Worker} */ (workers[i]).call('run', spec));
      return /** @type {Promise<{ [K in keyof S]: LoadResult }>} */ (Promise.all(runs));
    },
    /** @returns {Promise<void>} */
    stop: async () => {
      await Promise.all(workers.map((worker) => worker.stop()));
    },
  };
}

/**
 * Throws when a run that should have been all 2xx was not.
 * @param {LoadResult} result
 * @param {string} what names the run in the error
 */
export function expectAllOk(result, what) {
  if (result.non2xx > 0 || result.errors > 0 || result.ok === 0) {
    throw new Error(
      `${what}: ${result.ok} ok, ${result.non2xx} non-2xx, ${result.errors} errors (${JSON.stringify(result.statusCodes)})`,
    );
  }
  return result;
}
