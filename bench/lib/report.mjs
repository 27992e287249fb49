// @ts-check
// Renders the scenarios' results as markdown and writes them as JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { isGated } from './targets.mjs';

/**
 * @import { Issuer } from './issuer.mjs'
 * @import { Options } from './options.mjs'
 * @import { Summary } from './stats.mjs'
 * @import { Target } from './targets.mjs'
 */

/**
 * One row of a scenario's table of rates: each figure summarized over the rounds.
 * @typedef {object} Measurement
 * @property {string} name
 * @property {Summary} rps the rate, in the scenario's unit (req/s unless it names another)
 * @property {Summary} [p50] latency, ms
 * @property {Summary} [p99] latency, ms
 * @property {Summary} [cpu] the server's CPU time per answered request (or per operation), µs
 */

/**
 * A figure measured once, already formatted.
 * @typedef {{ name: string, text: string }} Value
 */

/**
 * A paired ratio between two series (stats.pairedRatio), named.
 * @typedef {Summary & { name: string }} Ratio
 */

/**
 * What a scenario's run resolves with; run.mjs adds `seconds`, or `error` when it threw.
 * @typedef {object} ScenarioResult
 * @property {string} [unit] of the measurements' rates; req/s when absent
 * @property {string} [cpuLabel] the header of the CPU column; `server CPU µs/req` when absent
 * @property {string} [setup] one sentence on how it was measured
 * @property {Measurement[]} [measurements]
 * @property {Value[]} [values]
 * @property {Ratio[]} [ratios]
 * @property {Target[]} [targets]
 * @property {string[]} [notes]
 * @property {unknown} [raw] everything measured, for the JSON file only
 * @property {string} [error] why the scenario failed
 * @property {string} [notRun] why the scenario measured nothing and that is no failure (e.g. a
 *   server it needs is not installed on a developer's machine)
 * @property {number} [seconds] how long it took
 */

/**
 * What run.mjs hands every scenario.
 * @typedef {object} ScenarioContext
 * @property {Issuer} issuer the bench issuer, whose keys server2 and the peer trust
 * @property {Options} options the command line
 * @property {(line: string) => void} log progress, to stderr
 */

/**
 * A scenario module of bench/scenarios/.
 * @typedef {object} Scenario
 * @property {number} id
 * @property {string} title
 * @property {(context: ScenarioContext) => Promise<ScenarioResult>} run
 */

/** @typedef {{ scenario: Scenario, result: ScenarioResult }} Entry */

/** @type {(value: number, digits: number) => string} */
const fixed = (value, digits) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
/** @type {(value: number) => string} */
const rate = (value) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
/** @type {(summary: Summary, format: (value: number) => string) => string} */
const spread = (summary, format) => `${format(summary.min)}–${format(summary.max)}`;

/**
 * @param {string[]} header
 * @param {(string | number)[][]} rows
 */
function table(header, rows) {
  const lines = [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/** The machine this ran on: what a reader needs to compare two runs. */
export function machine() {
  const list = cpus();
  return {
    cores: list.length,
    cpu: list[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/**
 * The markdown of one scenario's result (or of its failure).
 * @param {Pick<Scenario, 'id' | 'title'>} scenario
 * @param {ScenarioResult} result
 */
export function scenarioMarkdown(scenario, result) {
  const parts = [`### ${scenario.id}. ${scenario.title}`];
  if (result.error) return `${parts[0]}\n\nFAILED: ${result.error}`;
  if (result.notRun) return `${parts[0]}\n\nnot run: ${result.notRun}`;
  if (result.setup) parts.push(`_${result.setup}_`);
  if (result.measurements?.length) {
    const withCpu = result.measurements.some((m) => m.cpu);
    parts.push(
      table(
        [
          'measured',
          `median ${result.unit ?? 'req/s'}`,
          'spread',
          'p50 ms',
          'p99 ms',
          ...(withCpu ? [result.cpuLabel ?? 'server CPU µs/req'] : []),
        ],
        result.measurements.map((m) => [
          m.name,
          rate(m.rps.median),
          spread(m.rps, rate),
          m.p50 ? fixed(m.p50.median, 2) : '—',
          m.p99 ? fixed(m.p99.median, 2) : '—',
          ...(withCpu ? [m.cpu ? fixed(m.cpu.median, 0) : '—'] : []),
        ]),
      ),
    );
  }
  if (result.values?.length) {
    parts.push(
      table(
        ['value', 'measured'],
        result.values.map((v) => [v.name, v.text]),
      ),
    );
  }
  if (result.ratios?.length) {
    parts.push(
      table(
        ['ratio', 'median', 'spread', 'rounds'],
        result.ratios.map((r) => [
          r.name,
          `${fixed(r.median, 2)}x`,
          spread(r, (v) => `${fixed(v, 2)}x`),
          r.n,
        ]),
      ),
    );
  }
  if (result.notes?.length) parts.push(result.notes.map((note) => `- ${note}`).join('\n'));
  return parts.join('\n\n');
}

/**
 * All targets of all scenarios, pass or fail, as the issue lists them.
 * @param {Entry[]} entries
 */
export function targetsMarkdown(entries) {
  const rows = [];
  for (const { scenario, result } of entries) {
    // A scenario that did not run has no targets to list: say so, rather than leave them out.
    if (result.notRun)
      rows.push([`${scenario.title}: its targets`, '—', '—', `not run: ${result.notRun}`, 'no']);
    for (const t of result.targets ?? []) {
      const verdict = t.pass ? 'pass' : t.gate === 'reported' ? 'not met (reported only)' : 'FAIL';
      rows.push([
        t.name,
        `${t.op} ${t.threshold}`,
        `${fixed(t.measured, 2)} (${fixed(t.min, 2)}–${fixed(t.max, 2)})`,
        verdict,
        t.gate === 'always' ? 'yes' : 'no',
      ]);
    }
  }
  return table(['target', 'needs', 'measured (spread)', 'result', 'gated'], rows);
}

/**
 * What failed of what must pass: every scenario that threw and every gated target missed.
 * @param {Entry[]} entries
 * @returns {string[]}
 */
export function gatedFailures(entries) {
  const failures = [];
  for (const { scenario, result } of entries) {
    if (result.error) failures.push(`scenario ${scenario.id} failed: ${result.error}`);
    for (const t of result.targets ?? []) if (isGated(t) && !t.pass) failures.push(t.name);
  }
  return failures;
}

/**
 * Writes the whole run as JSON under bench/results/; returns the file's path.
 * @param {string} dir
 * @param {{ startedAt: number, quick: boolean, [key: string]: unknown }} run
 */
export function writeJson(dir, run) {
  mkdirSync(dir, { recursive: true });
  const stamp = new Date(run.startedAt).toISOString().replace(/[:.]/g, '-');
  const file = join(dir, `bench-${run.quick ? 'quick-' : ''}${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  return file;
}
