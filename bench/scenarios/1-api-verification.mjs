// @ts-check
// Scenario 1, API verification: GET /api/users/:sub/activity on server2 with a valid service
// token (verified-token cache on, and off in a second server2), against the same route with
// authentication turned off (a bench-only build, bench/servers/server2-no-auth.mjs), a bare
// fastify route returning the same JSON, a signed-cookie session route and the @fastify/jwt +
// get-jwks peer.
// Each variant gets one autocannon run per round, interleaved, from one load generator that stays
// up for the whole scenario (so that no run measures the generator's own warm-up); every round
// of server2 presents a freshly minted token, as server1 would every 45 s.
import { isDeepStrictEqual } from 'node:util';
import { startBaseline } from '../lib/baselines.mjs';
import { interleave, resultsOf } from '../lib/interleave.mjs';
import { expectAllOk, startLoadGenerators } from '../lib/load.mjs';
import { cpuMillis } from '../lib/metrics.mjs';
import { startServer2 } from '../lib/server2.mjs';
import { pairedRatio, summarize } from '../lib/stats.mjs';
import { atLeast } from '../lib/targets.mjs';

/** server2's LOG_LEVEL in this scenario (lib/server2.mjs), and so the no-auth build's. */
const LOG_LEVEL = 'warn';

import { createMinter } from '../lib/token-minter.mjs';

/**
 * @import { LoadResult } from '../lib/load.mjs'
 * @import { ScenarioContext, ScenarioResult } from '../lib/report.mjs'
 */

/**
 * One round of one variant: the load generator's result and the server's CPU per request.
 * @typedef {LoadResult & { cpuMicros: number }} ApiRound
 */

export const id = 1;
export const title = 'API verification';

const PATH = '/api/users/user-bench/activity';
const CONNECTIONS = 32;

/**
 * @param {ScenarioContext} context
 * @returns {Promise<ScenarioResult>}
 */
export async function run({ issuer, options, log }) {
  const durationSec = options.quick ? 1 : 2;
  const minter = createMinter(issuer.signer);
  /** @type {() => Record<string, string>} */
  const bearer = () => ({ authorization: `Bearer ${minter.service()}` });
  /** @type {{ stop: () => Promise<unknown> }[]} */
  const started = [];
  /**
   * @template {{ stop: () => Promise<unknown> }} S
   * @param {S} server stopped, with the others, when the scenario ends
   * @returns {S}
   */
  const keep = (server) => {
    started.push(server);
    return server;
  };
  try {
    const generator = keep(await startLoadGenerators(1, { nodeFlags: options.nodeFlags('autocannon') }));
    const cached = keep(await startServer2(issuer, {}, { nodeFlags: options.nodeFlags('server2-cache-on') }));
    const uncached = keep(
      await startServer2(
        issuer,
        { VERIFIED_TOKEN_CACHE: 'false' },
        { nodeFlags: options.nodeFlags('server2-cache-off') },
      ),
    );
    const expected = await (await fetch(cached.url + PATH, { headers: bearer() })).json();
    const noAuth = keep(
      await startBaseline(
        'server2-no-auth',
        { logLevel: LOG_LEVEL },
        { nodeFlags: options.nodeFlags('server2-no-auth') },
      ),
    );
    const bare = keep(
      await startBaseline('bare', { body: expected }, { nodeFlags: options.nodeFlags('bare') }),
    );
    const session = keep(await startBaseline('session', {}, { nodeFlags: options.nodeFlags('session') }));
    const sessionCookie = session.cookie;
    if (!sessionCookie) throw new Error('the session baseline reported no cookie');
    const peer = keep(
      await startBaseline(
        'peer',
        { issuer: issuer.url, audience: 'server2' },
        { nodeFlags: options.nodeFlags('peer') },
      ),
    );
    const variants = [
      { name: 'server2, cache on', url: cached.url, pid: cached.pid(), headers: bearer },
      { name: 'server2, cache off', url: uncached.url, pid: uncached.pid(), headers: bearer },
      { name: 'server2 route, no auth', url: noAuth.url, pid: noAuth.pid, headers: () => ({}) },
      { name: 'bare fastify route', url: bare.url, pid: bare.pid, headers: () => ({}) },
      {
        name: 'signed-cookie session',
        url: session.url,
        pid: session.pid,
        headers: () => ({ cookie: sessionCookie }),
      },
      { name: '@fastify/jwt + get-jwks', url: peer.url, pid: peer.pid, headers: bearer },
    ];
    // Every contender must answer the same JSON, or the comparison means nothing.
    for (const variant of variants) {
      const response = await fetch(variant.url + PATH, { headers: variant.headers() });
      const body = await response.json();
      if (response.status !== 200 || !isDeepStrictEqual(body, expected)) {
        throw new Error(`${variant.name} answered ${response.status} ${JSON.stringify(body)}`);
      }
    }
    const results = await interleave(
      variants.map((variant) => ({
        name: variant.name,
        measure: async () => {
          const cpuBefore = cpuMillis(variant.pid);
          const [load] = await generator.measure([
            { url: variant.url + PATH, connections: CONNECTIONS, durationSec, headers: variant.headers() },
          ]);
          const result = expectAllOk(load, variant.name);
          // The server's own CPU per request (all its threads, user and system time).
          return { ...result, cpuMicros: ((cpuMillis(variant.pid) - cpuBefore) * 1000) / result.ok };
        },
      })),
      { rounds: options.rounds, log },
    );
    return report(results, { durationSec });
  } finally {
    for (const server of started.reverse()) await server.stop();
  }
}

/**
 * @param {Record<string, ApiRound[]>} results
 * @param {{ durationSec: number }} settings
 * @returns {ScenarioResult}
 */
function report(results, { durationSec }) {
  const rps = (/** @type {string} */ name) => resultsOf(results, name).map((result) => result.rps);
  const ratio = (/** @type {string} */ a, /** @type {string} */ b) => pairedRatio(rps(a), rps(b));
  const cpu = (/** @type {string} */ name) => resultsOf(results, name).map((result) => result.cpuMicros);
  const cacheOn = 'server2, cache on';
  const noAuth = 'server2 route, no auth';
  const cacheOff = 'server2, cache off';
  const bare = 'bare fastify route';
  const session = 'signed-cookie session';
  const peer = '@fastify/jwt + get-jwks';
  const ratios = {
    'cache on / no-auth route': ratio(cacheOn, noAuth),
    // CPU per request the other way round (no-auth over cache on), so that 0.9x reads as "auth
    // costs a tenth" in both.
    'no-auth route / cache on, server CPU per request': pairedRatio(cpu(noAuth), cpu(cacheOn)),
    'cache on / bare route': ratio(cacheOn, bare),
    'no-auth route / bare route': ratio(noAuth, bare),
    'cache on / peer': ratio(cacheOn, peer),
    'cache on / session route': ratio(cacheOn, session),
    'cache off / peer': ratio(cacheOff, peer),
    'cache off / bare route': ratio(cacheOff, bare),
    'cache on / cache off': ratio(cacheOn, cacheOff),
    'session route / bare route': ratio(session, bare),
    'peer / bare route': ratio(peer, bare),
  };
  return {
    setup:
      `${CONNECTIONS} connections, ${durationSec} s per run, keep-alive, from one autocannon process that stays up; ` +
      'each contender its own process; ' +
      'server CPU is the server process’s user + system time per answered request',
    measurements: Object.entries(results).map(([name, runs]) => ({
      name,
      rps: summarize(runs.map((run) => run.rps)),
      p50: summarize(runs.map((run) => run.p50)),
      p99: summarize(runs.map((run) => run.p99)),
      cpu: summarize(runs.map((run) => run.cpuMicros)),
    })),
    ratios: Object.entries(ratios).map(([name, summary]) => ({ name, ...summary })),
    targets: [
      atLeast(
        'Authentication overhead: the cached API route at least 0.9x the same route without authentication (throughput)',
        ratios['cache on / no-auth route'],
        0.9,
      ),
      atLeast(
        'Authentication overhead: the route without authentication at least 0.9x the cached route’s server CPU per request (auth costs at most a tenth)',
        ratios['no-auth route / cache on, server CPU per request'],
        0.9,
      ),
      atLeast(
        'API verification with the cache: at least 4x the @fastify/jwt + get-jwks peer',
        ratios['cache on / peer'],
        4,
      ),
      atLeast('API verification without the cache: at least 1.2x the peer', ratios['cache off / peer'], 1.2),
      atLeast(
        'Reported, not gated: the cached API route at least 1.0x the signed-cookie session route',
        ratios['cache on / session route'],
        1.0,
        'reported',
      ),
    ],
    raw: results,
  };
}
