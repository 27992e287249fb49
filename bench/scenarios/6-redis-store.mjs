// @ts-check
// Scenario 6, the Redis store: what server2 costs with REDIS_URL (its sessions, used jtis, txns,
// revocation and activity in a real redis-server that the bench starts) against the same server2
// on its embedded SQLite, interleaved in the same rounds, so that the ratios are of one run:
// - whole handoffs at 8 users, as in scenario 3 (the real server1, server2 as shipped, logging at
//   info to a file), with the CPU time of every server process per handoff: server1, server2 and,
//   on Redis, redis-server too, since that is where the store's work went;
// - the cached service-token API of scenario 1 (the bench issuer's tokens, 32 connections), with
//   server CPU per request (server2, plus redis-server on Redis);
// - handoffs with two server2 replicas on the one Redis (same REDIS_URL and SESSION_SECRET), the
//   browsers spread over them by the load client itself (no balancer), against one replica.
// A scenario of its own rather than extra contenders in scenarios 1 and 3: its ratios need a
// redis-server, which a developer's machine may lack (then it reports "not run"; under CI it
// fails, since CI installs redis-server for the Redis suite before the bench).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { freePort, startPair, startService, tempDir } from '@jwt-handoff/testkit';
import { interleave, resultsOf } from '../lib/interleave.mjs';
import { expectAllOk, startLoadGenerators } from '../lib/load.mjs';
import { cpuMillis } from '../lib/metrics.mjs';
import { REDIS_SERVER_BINARY, redisServerAvailable, startRedisServer } from '../lib/redis-server.mjs';
import { startServer2 } from '../lib/server2.mjs';
import { pairedRatio, summarize } from '../lib/stats.mjs';
import { atLeast, atMost } from '../lib/targets.mjs';
import { createMinter } from '../lib/token-minter.mjs';
import { forkWorker } from '../lib/worker-process.mjs';

/**
 * @import { BrowserRound } from '../drivers/handoff-browsers.mjs'
 * @import { LoadResult } from '../lib/load.mjs'
 * @import { ScenarioContext, ScenarioResult } from '../lib/report.mjs'
 * @import { Worker } from '../lib/worker-process.mjs'
 */

/**
 * One round of one variant: its rate (handoffs or requests per second), latency, and the CPU
 * time per handoff or request, in µs, of all its server processes and of each kind of them.
 * @typedef {object} StoreRound
 * @property {number} rate
 * @property {number} p50 ms
 * @property {number} p99 ms
 * @property {number} cpuMicros every server process of the variant
 * @property {number} server1CpuMicros 0 for the API
 * @property {number} server2CpuMicros server2, or both replicas together
 * @property {number} redisCpuMicros redis-server; 0 on SQLite
 */

export const id = 6;
export const title = 'Redis store';

/** As in scenario 3: the services measured with their default LOG_LEVEL, as shipped. */
const DEFAULT_LOG_LEVEL = 'info';
/** As scenario 3's gated figures. */
const USERS = 8;
/** As scenario 1. */
const API_PATH = '/api/users/user-bench/activity';
const API_CONNECTIONS = 32;
/** The replicas' shared secret (the s2_handoff cookie's HMAC): replicas must share it. */
const REPLICA_SESSION_SECRET = 'bench-replicas-share-this-secret-0123456789';

const HANDOFFS_SQLITE = `handoffs, server2 on SQLite, ${USERS} users`;
const HANDOFFS_REDIS = `handoffs, server2 on Redis, ${USERS} users`;
const HANDOFFS_REPLICAS = `handoffs, two server2 replicas on Redis, ${USERS} users`;
const API_SQLITE = 'cached API requests, server2 on SQLite';
const API_REDIS = 'cached API requests, server2 on Redis';

/**
 * @param {ScenarioContext} context
 * @returns {Promise<ScenarioResult>}
 */
export async function run({ issuer, options, log }) {
  if (!redisServerAvailable()) {
    const why = `redis-server missing (${REDIS_SERVER_BINARY} cannot be run: apt-get install redis-server, or set REDIS_SERVER)`;
    // CI installs redis-server for the Redis suite before the bench: missing there is a broken
    // setup, and a figure silently left out would pass for measured.
    if (process.env.CI) throw new Error(`${why}; under CI the Redis figures must run`);
    log(`  not run: ${why}`);
    return { notRun: 'redis-server missing' };
  }
  const ms = options.quick ? 700 : 1500;
  const durationSec = options.quick ? 1 : 2;
  /** @type {(() => Promise<unknown>)[]} */
  const stops = [];
  try {
    const redis = await startRedisServer();
    stops.push(redis.stop);
    // Started side by side: most of a process's start is waiting (module loading, readiness),
    // and --quick must stay short.
    const [handoffs, api, generator] = await allStarted([
      startHandoffServices(options, redis.url, stops),
      startApiServers(issuer, options, redis.url, stops),
      startLoadGenerators(1, { nodeFlags: options.nodeFlags('s6-autocannon') }).then((started) => {
        stops.push(started.stop);
        return started;
      }),
    ]);

    /** @type {(name: string, server2Urls: string[]) => Promise<Worker>} */
    const startBrowsers = async (name, server2Urls) => {
      const worker = await forkWorker(new URL('../drivers/handoff-browsers.mjs', import.meta.url), {
        execArgv: options.nodeFlags(name),
      });
      stops.push(worker.stop);
      await worker.call('setup', {
        flow: 'handoff',
        server1Url: handoffs.server1.url,
        server2Url: server2Urls[0],
        server2Urls,
        password: handoffs.demoPassword,
        users: USERS,
      });
      return worker;
    };
    log(`  signing ${USERS} browsers in for each of the three handoff variants`);
    const [sqliteBrowsers, redisBrowsers, replicaBrowsers] = await allStarted([
      startBrowsers('s6-browsers-sqlite', [handoffs.sqlite.url]),
      startBrowsers('s6-browsers-redis', [handoffs.replicaA.url]),
      startBrowsers('s6-browsers-replicas', [handoffs.replicaA.url, handoffs.replicaB.url]),
    ]);

    /**
     * Runs `browsers` for a round and reads the CPU time of each process meanwhile.
     * @param {Worker} browsers
     * @param {{ server2: number[], redis?: number }} pids besides server1's
     * @returns {Promise<StoreRound>}
     */
    const measureHandoffs = async (browsers, pids) => {
      const server1 = pidOf(handoffs.server1);
      const before = cpuOf(server1, pids);
      /** @type {BrowserRound} */
      const round = await browsers.call('round', { users: USERS, ms });
      const spent = cpuSince(before, cpuOf(server1, pids), round.done);
      return { rate: round.rate, p50: round.p50, p99: round.p99, ...spent };
    };
    /**
     * One autocannon run against a server2 of the bench issuer, with a fresh token.
     * @param {string} name
     * @param {{ url: string, pid: () => number }} server2
     * @param {number} [redisPid]
     * @returns {Promise<StoreRound>}
     */
    const measureApi = async (name, server2, redisPid) => {
      const pids = { server2: [server2.pid()], ...(redisPid === undefined ? {} : { redis: redisPid }) };
      const before = cpuOf(undefined, pids);
      const [load] = await generator.measure([
        { url: server2.url + API_PATH, connections: API_CONNECTIONS, durationSec, headers: api.bearer() },
      ]);
      /** @type {LoadResult} */
      const result = expectAllOk(load, name);
      const spent = cpuSince(before, cpuOf(undefined, pids), result.ok);
      return { rate: result.rps, p50: result.p50, p99: result.p99, ...spent };
    };

    const replicaPids = () => [pidOf(handoffs.replicaA), pidOf(handoffs.replicaB)];
    const results = await interleave(
      [
        {
          name: HANDOFFS_SQLITE,
          measure: () => measureHandoffs(sqliteBrowsers, { server2: [pidOf(handoffs.sqlite)] }),
        },
        {
          name: HANDOFFS_REDIS,
          measure: () =>
            measureHandoffs(redisBrowsers, { server2: [pidOf(handoffs.replicaA)], redis: redis.pid }),
        },
        {
          name: HANDOFFS_REPLICAS,
          measure: () => measureHandoffs(replicaBrowsers, { server2: replicaPids(), redis: redis.pid }),
        },
        { name: API_SQLITE, measure: () => measureApi(API_SQLITE, api.sqlite) },
        { name: API_REDIS, measure: () => measureApi(API_REDIS, api.redis, redis.pid) },
      ],
      { rounds: options.rounds, log },
    );
    return report(results, { ms, durationSec });
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

/**
 * server1 with server2 on SQLite (startPair, as scenario 3), and two server2 replicas on Redis,
 * registered at server1 as a second client with both callbacks; stopped through `stops`.
 * @param {ScenarioContext['options']} options
 * @param {string} redisUrl
 * @param {(() => Promise<unknown>)[]} stops
 */
async function startHandoffServices(options, redisUrl, stops) {
  const [portA, portB] = [await freePort(), await freePort()];
  const replicaUrl = (/** @type {number} */ port) => `http://localhost:${port}`;
  const pair = await startPair({
    server1Env: { LOG_LEVEL: DEFAULT_LOG_LEVEL },
    server2Env: { LOG_LEVEL: DEFAULT_LOG_LEVEL },
    server1ExecArgv: options.nodeFlags('s6-server1'),
    server2ExecArgv: options.nodeFlags('s6-server2-sqlite'),
    logsToFile: true,
    moreClients: [
      {
        id: 'server2-redis',
        redirect_uris: [portA, portB].map((port) => `${replicaUrl(port)}/handoff/callback`),
      },
    ],
  });
  stops.push(pair.close);
  const replica = async (/** @type {number} */ port, /** @type {string} */ name) => {
    const dataDir = tempDir(`bench-${name}`);
    const service = await startService(
      'server2',
      {
        PORT: String(port),
        PUBLIC_URL: replicaUrl(port),
        ISSUER_URL: pair.server1.url,
        JWKS_URL: `http://127.0.0.1:${pair.server1.env.PORT}/.well-known/jwks.json`,
        CLIENT_ID: 'server2-redis',
        DATA_DIR: dataDir,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: 'bench-handoff:',
        SESSION_SECRET: REPLICA_SESSION_SECRET,
        LOG_LEVEL: DEFAULT_LOG_LEVEL,
      },
      { execArgv: options.nodeFlags(`s6-${name}`), stdoutFile: join(dataDir, 'stdout.log') },
    );
    stops.push(async () => {
      await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });
    return service;
  };
  const [replicaA, replicaB] = await Promise.all([replica(portA, 'replica-a'), replica(portB, 'replica-b')]);
  return { server1: pair.server1, sqlite: pair.server2, demoPassword: pair.demoPassword, replicaA, replicaB };
}

/**
 * Two server2s of the bench issuer (cache on, the default), one on SQLite and one on Redis, which
 * must answer the API with the same JSON; stopped through `stops`.
 * @param {ScenarioContext['issuer']} issuer
 * @param {ScenarioContext['options']} options
 * @param {string} redisUrl
 * @param {(() => Promise<unknown>)[]} stops
 */
async function startApiServers(issuer, options, redisUrl, stops) {
  const minter = createMinter(issuer.signer);
  /** @type {() => Record<string, string>} */
  const bearer = () => ({ authorization: `Bearer ${minter.service()}` });
  const sqlite = await startServer2(issuer, {}, { nodeFlags: options.nodeFlags('s6-api-sqlite') });
  stops.push(sqlite.stop);
  const redis = await startServer2(
    issuer,
    { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: 'bench-api:' },
    { nodeFlags: options.nodeFlags('s6-api-redis') },
  );
  stops.push(redis.stop);
  const answers = [];
  for (const server of [sqlite, redis]) {
    const response = await fetch(server.url + API_PATH, { headers: bearer() });
    if (response.status !== 200) throw new Error(`${server.url}${API_PATH} answered ${response.status}`);
    answers.push(await response.json());
  }
  if (!isDeepStrictEqual(answers[0], answers[1])) {
    throw new Error(
      `the API answers differ: SQLite ${JSON.stringify(answers[0])}, Redis ${JSON.stringify(answers[1])}`,
    );
  }
  return { sqlite, redis, bearer };
}

/**
 * Waits for every start to settle, so that none is still starting (and so not yet registered
 * for stopping) when the scenario cleans up; then resolves with them all or throws the first
 * failure.
 * @template {readonly unknown[]} T
 * @param {[...{ [K in keyof T]: Promise<T[K]> }]} starts
 * @returns {Promise<T>}
 */
async function allStarted(starts) {
  for (const outcome of await Promise.allSettled(starts)) {
    if (outcome.status === 'rejected') throw outcome.reason;
  }
  return Promise.all(starts);
}

/** @param {{ pid: () => number | undefined, name: string }} service */
function pidOf(service) {
  const pid = service.pid();
  if (pid === undefined) throw new Error(`${service.name} is not running`);
  return pid;
}

/**
 * CPU time so far, in ms, of server1 (when given), the server2s together and redis-server.
 * @param {number | undefined} server1
 * @param {{ server2: number[], redis?: number }} pids
 */
function cpuOf(server1, pids) {
  return {
    server1: server1 === undefined ? 0 : cpuMillis(server1),
    server2: pids.server2.reduce((sum, pid) => sum + cpuMillis(pid), 0),
    redis: pids.redis === undefined ? 0 : cpuMillis(pids.redis),
  };
}

/**
 * CPU per operation between two readings, in µs.
 * @param {ReturnType<typeof cpuOf>} before
 * @param {ReturnType<typeof cpuOf>} after
 * @param {number} done handoffs or requests answered meanwhile
 */
function cpuSince(before, after, done) {
  const per = (/** @type {keyof typeof before} */ key) => ((after[key] - before[key]) * 1000) / done;
  const [server1CpuMicros, server2CpuMicros, redisCpuMicros] = [per('server1'), per('server2'), per('redis')];
  return {
    cpuMicros: server1CpuMicros + server2CpuMicros + redisCpuMicros,
    server1CpuMicros,
    server2CpuMicros,
    redisCpuMicros,
  };
}

/**
 * @param {Record<string, StoreRound[]>} results
 * @param {{ ms: number, durationSec: number }} settings
 * @returns {ScenarioResult}
 */
function report(results, { ms, durationSec }) {
  /** @type {(name: string, pick: (round: StoreRound) => number) => number[]} */
  const series = (name, pick) => resultsOf(results, name).map(pick);
  const rate = (/** @type {StoreRound} */ round) => round.rate;
  const cpu = (/** @type {StoreRound} */ round) => round.cpuMicros;
  // server2's own share: server2 and, on Redis, the store it moved out of its process.
  const server2AndStore = (/** @type {StoreRound} */ round) => round.server2CpuMicros + round.redisCpuMicros;
  const ratios = {
    handoffCpu: pairedRatio(series(HANDOFFS_REDIS, cpu), series(HANDOFFS_SQLITE, cpu)),
    handoffServer2Cpu: pairedRatio(
      series(HANDOFFS_REDIS, server2AndStore),
      series(HANDOFFS_SQLITE, server2AndStore),
    ),
    handoffRate: pairedRatio(series(HANDOFFS_REDIS, rate), series(HANDOFFS_SQLITE, rate)),
    apiRate: pairedRatio(series(API_REDIS, rate), series(API_SQLITE, rate)),
    apiCpu: pairedRatio(series(API_REDIS, cpu), series(API_SQLITE, cpu)),
    replicasRate: pairedRatio(series(HANDOFFS_REPLICAS, rate), series(HANDOFFS_REDIS, rate)),
    replicasCpu: pairedRatio(series(HANDOFFS_REPLICAS, cpu), series(HANDOFFS_REDIS, cpu)),
  };
  /** @type {(name: string, pick: (round: StoreRound) => number) => string} */
  const micros = (name, pick) => `${summarize(series(name, pick)).median.toFixed(0)} µs`;
  /** @type {(name: string) => string} */
  const breakdown = (name) =>
    [
      micros(name, (r) => r.server1CpuMicros),
      micros(name, (r) => r.server2CpuMicros),
      micros(name, (r) => r.redisCpuMicros),
    ].join(' / ');
  return {
    unit: 'handoffs/s or req/s',
    cpuLabel: 'server CPU µs per handoff or request',
    setup:
      `one redis-server (no persistence) for every Redis variant; handoffs: server1 + server2 as in scenario 3 ` +
      `(LOG_LEVEL=${DEFAULT_LOG_LEVEL}, logs to a file), ${USERS} browsers, ${ms} ms per round, CPU of server1, ` +
      `server2 (both replicas) and redis-server per handoff; API: scenario 1's cached route, ${API_CONNECTIONS} ` +
      `connections, ${durationSec} s per run, CPU of server2 and redis-server per request; the replicas share ` +
      'REDIS_URL and SESSION_SECRET and the load client spreads the browsers over them (no balancer)',
    measurements: Object.entries(results).map(([name, runs]) => ({
      name,
      rps: summarize(runs.map(rate)),
      p50: summarize(runs.map((r) => r.p50)),
      p99: summarize(runs.map((r) => r.p99)),
      cpu: summarize(runs.map(cpu)),
    })),
    values: [
      {
        name: 'CPU per handoff on SQLite: server1 / server2 / redis-server',
        text: breakdown(HANDOFFS_SQLITE),
      },
      { name: 'CPU per handoff on Redis: server1 / server2 / redis-server', text: breakdown(HANDOFFS_REDIS) },
      {
        name: 'CPU per handoff, two replicas on Redis: server1 / both server2s / redis-server',
        text: breakdown(HANDOFFS_REPLICAS),
      },
      {
        name: 'CPU per cached API request on SQLite: server2 / redis-server',
        text: `${micros(API_SQLITE, (r) => r.server2CpuMicros)} / ${micros(API_SQLITE, (r) => r.redisCpuMicros)}`,
      },
      {
        name: 'CPU per cached API request on Redis: server2 / redis-server',
        text: `${micros(API_REDIS, (r) => r.server2CpuMicros)} / ${micros(API_REDIS, (r) => r.redisCpuMicros)}`,
      },
    ],
    ratios: [
      {
        name: 'Redis / SQLite, server CPU per handoff (server1 + server2 + redis-server)',
        ...ratios.handoffCpu,
      },
      { name: 'Redis / SQLite, CPU per handoff of server2 and its store', ...ratios.handoffServer2Cpu },
      { name: 'Redis / SQLite, handoffs per second', ...ratios.handoffRate },
      { name: 'Redis / SQLite, cached API throughput', ...ratios.apiRate },
      {
        name: 'Redis / SQLite, cached API server CPU per request (server2 + redis-server)',
        ...ratios.apiCpu,
      },
      { name: 'two replicas / one on Redis, handoffs per second', ...ratios.replicasRate },
      { name: 'two replicas / one on Redis, server CPU per handoff', ...ratios.replicasCpu },
    ],
    targets: [
      atMost(
        'Redis store: server CPU per handoff (with redis-server’s) at most 1.3x on SQLite',
        ratios.handoffCpu,
        1.3,
      ),
      atLeast(
        'Redis store: the cached service-token API at least 0.8x on SQLite (throughput)',
        ratios.apiRate,
        0.8,
      ),
    ],
    notes: [
      'two replicas against one is reported without a target: on 2 cores the replicas, server1, redis-server ' +
        'and the load client share the same two cores (docs/benchmarks.md)',
    ],
    raw: results,
  };
}
