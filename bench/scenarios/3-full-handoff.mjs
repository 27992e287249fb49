// @ts-check
// Scenario 3, full handoff: server1 and server2 as real processes (the testkit's startPair) with
// their default settings (logging as shipped, to a file), browsers that already hold a server1
// session doing whole handoffs (start, authorize, callback, complete) at 1, 8 and 32 concurrent
// users, each interleaved with the in-process bound (sign, verify, server2's store writes; no
// HTTP) at the same concurrency. Beside throughput, each round reads the CPU time the servers
// (both services, all threads) and the bound's process spent, per handoff: a figure that does
// not depend on whether the load generator or the servers were the limit.
//
// The peer a user would pick instead runs at the same concurrencies, interleaved: an OpenID
// Connect code flow with PKCE (oidc-provider 8 and an openid-client 6 relying app on fastify, each
// in its own process, bench/servers/oidc-*.mjs), its browsers already signed in at the provider
// with a grant for the app, so that no login or consent page appears.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startPair, tempDir } from '@jwt-handoff/testkit';
import { interleave, resultsOf } from '../lib/interleave.mjs';
import { cpuMillis } from '../lib/metrics.mjs';
import { pairedRatio, summarize } from '../lib/stats.mjs';
import { atLeast, atMost } from '../lib/targets.mjs';
import { forkWorker } from '../lib/worker-process.mjs';

/**
 * @import { BoundRound } from '../drivers/handoff-bound.mjs'
 * @import { BrowserRound } from '../drivers/handoff-browsers.mjs'
 * @import { ScenarioContext, ScenarioResult } from '../lib/report.mjs'
 * @import { Worker } from '../lib/worker-process.mjs'
 */

/**
 * One round of one variant: its rate, latency where it has one, and the CPU time per handoff of
 * the processes doing the work (the two services, or the bound's own process), in µs.
 * @typedef {(BrowserRound | BoundRound) & { cpuMicros: number, server1CpuMicros?: number, server2CpuMicros?: number }} HandoffRound
 */

export const id = 3;
export const title = 'Full handoff';

/** The services' default LOG_LEVEL (services/*\/src/config.ts): the bench measures them as shipped. */
const DEFAULT_LOG_LEVEL = 'info';

/**
 * @param {ScenarioContext} context
 * @returns {Promise<ScenarioResult>}
 */
export async function run({ options, log }) {
  const ms = options.quick ? 700 : 1500;
  // CI's quick run checks the gated CPU ratio at 8 users only; the full run measures all three.
  const users = options.quick ? [8] : [1, 8, 32];
  const pair = await startPair({
    server1Env: { LOG_LEVEL: DEFAULT_LOG_LEVEL },
    server2Env: { LOG_LEVEL: DEFAULT_LOG_LEVEL },
    server1ExecArgv: options.nodeFlags('server1'),
    server2ExecArgv: options.nodeFlags('server2'),
    logsToFile: true,
  });
  /** @type {Worker[]} */
  const workers = [];
  const oidcLogs = tempDir('bench-oidc');
  /** @type {Record<string, HandoffRound[]>} */
  let results;
  try {
    const pids = () => {
      const [server1, server2] = [pair.server1.pid(), pair.server2.pid()];
      if (server1 === undefined || server2 === undefined) throw new Error('a service is not running');
      return { server1, server2 };
    };
    const browsers = await forkWorker(new URL('../drivers/handoff-browsers.mjs', import.meta.url), {
      execArgv: options.nodeFlags('handoff-browsers'),
    });
    workers.push(browsers);
    const bound = await forkWorker(new URL('../drivers/handoff-bound.mjs', import.meta.url), {
      execArgv: options.nodeFlags('handoff-bound'),
    });
    workers.push(bound);
    log(`  signing ${Math.max(...users)} browsers in to server1`);
    await browsers.call('setup', {
      flow: 'handoff',
      server1Url: pair.server1.url,
      server2Url: pair.server2.url,
      password: pair.demoPassword,
      users: Math.max(...users),
    });
    await bound.call('setup');
    const oidc = await startOidcPeer(options, workers, oidcLogs);
    const oidcBrowsers = await forkWorker(new URL('../drivers/handoff-browsers.mjs', import.meta.url), {
      execArgv: options.nodeFlags('oidc-browsers'),
    });
    workers.push(oidcBrowsers);
    log(`  signing ${Math.max(...users)} browsers in at the OpenID provider`);
    await oidcBrowsers.call('setup', {
      flow: 'oidc',
      relyingUrl: oidc.relyingUrl,
      providerUrl: oidc.providerUrl,
      users: Math.max(...users),
    });
    /** @returns {Promise<HandoffRound>} */
    const measureHandoffs = async (/** @type {number} */ count) => {
      const { server1, server2 } = pids();
      const before = { server1: cpuMillis(server1), server2: cpuMillis(server2) };
      /** @type {BrowserRound} */
      const round = await browsers.call('round', { users: count, ms });
      const server1CpuMicros = ((cpuMillis(server1) - before.server1) * 1000) / round.done;
      const server2CpuMicros = ((cpuMillis(server2) - before.server2) * 1000) / round.done;
      return { ...round, cpuMicros: server1CpuMicros + server2CpuMicros, server1CpuMicros, server2CpuMicros };
    };
    /** @returns {Promise<HandoffRound>} */
    const measureBound = async (/** @type {number} */ inFlight) => {
      const before = cpuMillis(bound.pid);
      /** @type {BoundRound} */
      const round = await bound.call('round', { inFlight, ms });
      return { ...round, cpuMicros: ((cpuMillis(bound.pid) - before) * 1000) / round.done };
    };
    /** @returns {Promise<HandoffRound>} */
    const measureOidc = async (/** @type {number} */ count) => {
      const before = oidc.pids.map(cpuMillis);
      /** @type {BrowserRound} */
      const round = await oidcBrowsers.call('round', { users: count, ms });
      const [provider, relying] = oidc.pids.map(
        (pid, i) => ((cpuMillis(pid) - (before[i] ?? 0)) * 1000) / round.done,
      );
      return {
        ...round,
        cpuMicros: (provider ?? 0) + (relying ?? 0),
        server1CpuMicros: provider,
        server2CpuMicros: relying,
      };
    };
    const variants = users.flatMap((count) => [
      { name: handoffsAt(count), measure: () => measureHandoffs(count) },
      { name: boundAt(count), measure: () => measureBound(count) },
      { name: oidcAt(count), measure: () => measureOidc(count) },
    ]);
    results = await interleave(variants, { rounds: options.rounds, log });
  } finally {
    for (const worker of workers) await worker.stop();
    await pair.close();
    rmSync(oidcLogs, { recursive: true, force: true });
  }
  return report(results, { users, ms });
}

/**
 * Starts the OpenID Connect peer, provider and relying app, each in its own process (added to
 * `workers`, which the scenario stops), on free ports.
 * @param {ScenarioContext['options']} options
 * @param {Worker[]} workers
 * @param {string} logs the directory their log files go to
 */
async function startOidcPeer(options, workers, logs) {
  const [providerPort, relyingPort] = [await freePort(), await freePort()];
  const providerUrl = `http://localhost:${providerPort}`;
  const relyingUrl = `http://localhost:${relyingPort}`;
  const client = { clientId: 'bench-rp', clientSecret: 'bench-rp-client-secret-0123456789abcdef' };
  const provider = await forkWorker(new URL('../servers/oidc-provider.mjs', import.meta.url), {
    execArgv: options.nodeFlags('oidc-provider'),
  });
  workers.push(provider);
  await provider.call('start', {
    issuer: providerUrl,
    port: providerPort,
    logFile: join(logs, 'provider.log'),
    client: { ...client, redirectUri: `${relyingUrl}/callback` },
  });
  const relying = await forkWorker(new URL('../servers/oidc-relying.mjs', import.meta.url), {
    execArgv: options.nodeFlags('oidc-relying'),
  });
  workers.push(relying);
  await relying.call('start', {
    issuer: providerUrl,
    port: relyingPort,
    logFile: join(logs, 'relying.log'),
    ...client,
  });
  return { providerUrl, relyingUrl, pids: [provider.pid, relying.pid] };
}

const handoffsAt = (/** @type {number} */ users) => `handoffs, ${users} user${users > 1 ? 's' : ''}`;
const oidcAt = (/** @type {number} */ users) =>
  `OIDC code flow + PKCE sign-ins, ${users} user${users > 1 ? 's' : ''}`;
const boundAt = (/** @type {number} */ users) => `in-process bound, ${users} in flight`;

/**
 * @param {Record<string, HandoffRound[]>} results
 * @param {{ users: number[], ms: number }} settings
 * @returns {ScenarioResult}
 */
function report(results, { users, ms }) {
  /** @type {(name: string, pick: (round: HandoffRound) => number) => number[]} */
  const series = (name, pick) => resultsOf(results, name).map(pick);
  const rate = (/** @type {HandoffRound} */ round) => round.rate;
  const cpu = (/** @type {HandoffRound} */ round) => round.cpuMicros;
  const ratios = users.flatMap((count) => [
    {
      name: `handoffs / bound at ${count} user${count > 1 ? 's' : ''}, throughput`,
      ...pairedRatio(series(handoffsAt(count), rate), series(boundAt(count), rate)),
    },
    {
      name: `server CPU per handoff / bound's CPU per handoff at ${count} user${count > 1 ? 's' : ''}`,
      ...pairedRatio(series(handoffsAt(count), cpu), series(boundAt(count), cpu)),
    },
  ]);
  const latency = (/** @type {HandoffRound} */ round) => ('p50' in round ? round.p50 : Number.NaN);
  for (const count of users) {
    const at = `${count} user${count > 1 ? 's' : ''}`;
    ratios.push(
      {
        name: `handoffs / OIDC sign-ins at ${at}, throughput`,
        ...pairedRatio(series(handoffsAt(count), rate), series(oidcAt(count), rate)),
      },
      {
        name: `handoff / OIDC sign-in at ${at}, server CPU per sign-in`,
        ...pairedRatio(series(handoffsAt(count), cpu), series(oidcAt(count), cpu)),
      },
      {
        name: `handoff / OIDC sign-in at ${at}, p50 latency`,
        ...pairedRatio(series(handoffsAt(count), latency), series(oidcAt(count), latency)),
      },
    );
  }
  const ratioNamed = (/** @type {string} */ name) => {
    const found = ratios.find((ratio) => ratio.name === name);
    if (!found) throw new Error(`no ratio ${name}`);
    return found;
  };
  // The tail of one whole handoff, per round: p99 over p50 of that round's handoffs.
  const tail = summarize(
    series(handoffsAt(8), (round) => ('p99' in round && 'p50' in round ? round.p99 / round.p50 : Number.NaN)),
  );
  ratios.push({ name: 'p99 / p50 of one handoff at 8 users', ...tail });
  return {
    unit: 'handoffs/s',
    cpuLabel: 'CPU µs/handoff',
    setup:
      `startPair (server1 + server2, LOG_LEVEL=${DEFAULT_LOG_LEVEL} as shipped, logs to a file), ${ms} ms per round; ` +
      'latency is one whole handoff (4 requests); CPU is user + system time of both services (all threads), ' +
      'or of the bound’s process, per handoff',
    measurements: Object.entries(results).map(([name, runs]) => ({
      name,
      rps: summarize(runs.map(rate)),
      ...(runs.every((r) => 'p50' in r)
        ? {
            p50: summarize(runs.map((r) => ('p50' in r ? r.p50 : Number.NaN))),
            p99: summarize(runs.map((r) => ('p99' in r ? r.p99 : Number.NaN))),
          }
        : {}),
      cpu: summarize(runs.map(cpu)),
    })),
    values: users.flatMap((count) => {
      /** @type {(name: string, pick: (round: HandoffRound) => number | undefined) => string} */
      const per = (name, pick) =>
        summarize(resultsOf(results, name).map((round) => pick(round) ?? Number.NaN)).median.toFixed(0);
      const at = `${count} user${count > 1 ? 's' : ''}`;
      return [
        {
          name: `server CPU per handoff at ${at}: server1 / server2`,
          text: `${per(handoffsAt(count), (r) => r.server1CpuMicros)} µs / ${per(handoffsAt(count), (r) => r.server2CpuMicros)} µs`,
        },
        {
          name: `server CPU per OIDC sign-in at ${at}: provider / relying app`,
          text: `${per(oidcAt(count), (r) => r.server1CpuMicros)} µs / ${per(oidcAt(count), (r) => r.server2CpuMicros)} µs`,
        },
      ];
    }),
    ratios,
    targets: [
      atMost(
        "Full handoff at 8 users: the servers' CPU per handoff at most 1.5x the in-process bound's",
        ratioNamed("server CPU per handoff / bound's CPU per handoff at 8 users"),
        1.5,
      ),
      atMost('Full handoff at 8 users: p99 at most 3x p50', tail, 3),
      atMost(
        "Full handoff at 8 users: the servers' CPU per sign-in at most 0.5x the OIDC code flow's",
        ratioNamed('handoff / OIDC sign-in at 8 users, server CPU per sign-in'),
        0.5,
      ),
      atLeast(
        'Full handoff at 8 users: at least 1.5x the OIDC code flow’s sign-ins per second',
        ratioNamed('handoffs / OIDC sign-ins at 8 users, throughput'),
        1.5,
      ),
    ],
    raw: results,
  };
}
