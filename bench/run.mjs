// @ts-check
// `npm run bench [-- --quick] [-- --only=1,3] [-- --rounds=N] [-- --cpu-prof]`
//
// Runs the scenarios of issue 6 against real processes on loopback, prints a markdown table of
// every measurement, ratio and target, and writes the whole run as JSON to bench/results/.
// Every figure is a ratio between two things measured in the same run, interleaved, the median
// of the rounds with their spread. See docs/benchmarks.md for how to read the output.
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { startIssuer } from './lib/issuer.mjs';
import { parseOptions } from './lib/options.mjs';
import { gatedFailures, machine, scenarioMarkdown, targetsMarkdown, writeJson } from './lib/report.mjs';
import * as apiVerification from './scenarios/1-api-verification.mjs';
import * as rawBound from './scenarios/2-raw-bound.mjs';
import * as fullHandoff from './scenarios/3-full-handoff.mjs';
import * as flood from './scenarios/4-unknown-kid-flood.mjs';
import * as memory from './scenarios/5-memory.mjs';
import * as redisStore from './scenarios/6-redis-store.mjs';

/** @import { Entry, Scenario, ScenarioResult } from './lib/report.mjs' */

/** @type {Scenario[]} */
const SCENARIOS = [apiVerification, rawBound, fullHandoff, flood, memory, redisStore];

const options = parseOptions(process.argv.slice(2));
const selected = SCENARIOS.filter((scenario) => !options.only || options.only.includes(scenario.id));
const startedAt = Date.now();
const log = (/** @type {string} */ line) => process.stderr.write(`${line}\n`);
if (options.cpuProf) rmSync(options.profileDir, { recursive: true, force: true });

log(
  `jwt-handoff bench${options.quick ? ' (quick)' : ''}: ${options.rounds} rounds, ${JSON.stringify(machine())}`,
);
const issuer = await startIssuer();
/** @type {Entry[]} */
const entries = [];
try {
  for (const scenario of selected) {
    const began = Date.now();
    log(`\n[${scenario.id}] ${scenario.title}`);
    /** @type {ScenarioResult} */
    let result;
    try {
      result = await scenario.run({ issuer, options, log });
    } catch (err) {
      log(err instanceof Error ? (err.stack ?? err.message) : String(err));
      result = { error: err instanceof Error ? err.message : String(err) };
    }
    result.seconds = (Date.now() - began) / 1000;
    log(`[${scenario.id}] done in ${result.seconds.toFixed(0)} s`);
    entries.push({ scenario, result });
  }
} finally {
  await issuer.close();
}

const seconds = (Date.now() - startedAt) / 1000;
const info = machine();
const markdown = [
  `## Results${options.quick ? ' (quick run: checks only, not figures to quote)' : ''}`,
  `${info.cores} cores (${info.cpu}), ${info.memoryGiB} GiB, Node ${info.node}, ${info.platform}; ` +
    `${options.rounds} rounds; ${new Date(startedAt).toISOString()}; took ${seconds.toFixed(0)} s`,
  ...entries.map(({ scenario, result }) => scenarioMarkdown(scenario, result)),
  '### Targets',
  targetsMarkdown(entries),
].join('\n\n');
console.log(markdown);

const failures = gatedFailures(entries);
const file = writeJson(resolve('bench/results'), {
  startedAt,
  seconds,
  quick: options.quick,
  rounds: options.rounds,
  machine: info,
  scenarios: entries.map(({ scenario, result }) => ({ id: scenario.id, title: scenario.title, ...result })),
  failures,
  markdown,
});
log(`\nJSON: ${file}`);
if (failures.length > 0) {
  log(`gated checks failed:\n- ${failures.join('\n- ')}`);
  process.exitCode = 1;
}
