#!/usr/bin/env node
// `npm run attack`: the only file that reads process.argv and the environment, and exits.
import { writeFileSync } from 'node:fs';
import { ATTACKS, FINAL_CHECKS, qualifiedId } from './catalogue.js';
import { parseCliOptions, USAGE } from './cli-options.js';
import { formatReport, reportJson } from './report-table.js';
import { runAttacks } from './run-attacks.js';

let options: ReturnType<typeof parseCliOptions>;
try {
  options = parseCliOptions(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
if (options.help) {
  console.log(USAGE);
  process.exit(0);
}
if (options.list) {
  for (const attack of [...ATTACKS, ...FINAL_CHECKS])
    console.log(`${qualifiedId(attack).padEnd(52)} ${attack.title}`);
  process.exit(0);
}

console.error(`attacking server1 ${options.server1} and server2 ${options.server2} as ${options.username}…`);
const report = await runAttacks(options).catch((err: Error) => {
  // A bug of the tool is "could not test", never a pass.
  console.error(`the attack tool failed: ${err.stack ?? err.message}`);
  process.exit(2);
});
console.log(formatReport(report));
if (options.json !== undefined) writeFileSync(options.json, reportJson(report));
process.exitCode = report.exitCode;
