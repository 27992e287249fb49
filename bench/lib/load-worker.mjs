// @ts-check
// The load generator's process: runs one autocannon measurement per call and reports it. Kept
// out of the harness's process so that the generator never shares an event loop with anything.
import autocannon from 'autocannon';
import { createRandomKidTokens } from './token-minter.mjs';
import { serveParent } from './worker-process.mjs';

/** @import { LoadResult, LoadSpec } from './load.mjs' */

serveParent({
  /**
   * With randomKidIssuer every request carries a fresh token naming a random kid.
   * @param {LoadSpec} spec
   * @returns {Promise<LoadResult>}
   */
  async run({ url, connections, durationSec, headers = {}, overallRate, randomKidIssuer }) {
    /** @type {autocannon.Options} */
    const options = { url, connections, duration: durationSec, headers, pipelining: 1 };
    if (overallRate) options.overallRate = overallRate;
    if (randomKidIssuer) {
      const next = createRandomKidTokens(randomKidIssuer);
      options.requests = [
        {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, authorization: `Bearer ${next()}` },
          }),
        },
      ];
    }
    const result = await autocannon(options);
    const seconds = result.duration;
    return {
      rps: result['2xx'] / seconds,
      totalRps: result.requests.total / seconds,
      p50: result.latency.p50,
      p99: result.latency.p99,
      ok: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      statusCodes: result.statusCodeStats,
      seconds,
    };
  },
});
