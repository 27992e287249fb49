// Reads a vitest JSON report and fails when any test was skipped, marked todo, or none ran.
// Prints the closing line CI reads: "N passed, N failed".
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const report = JSON.parse(readFileSync(file, 'utf8'));
const {
  numPassedTests: passed,
  numFailedTests: failed,
  numPendingTests: skipped,
  numTodoTests: todo,
} = report;
const problems = [];
if (skipped > 0) problems.push(`${skipped} skipped`);
if (todo > 0) problems.push(`${todo} todo`);
if (passed === 0) problems.push('no test ran');
if (failed > 0) problems.push(`${failed} failed`);
console.log(`${passed} passed, ${failed} failed`);
if (problems.length > 0) {
  console.error(`${file}: not green: ${problems.join(', ')}`);
  process.exit(1);
}
