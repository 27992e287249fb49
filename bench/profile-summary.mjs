// @ts-check
// Where a profiled process spent its time: the top self-time entries of the V8 CPU profiles that
// `npm run bench -- --cpu-prof` writes, as shares of the process's busy time (idle excluded).
// Usage:
//   node bench/profile-summary.mjs <profile or folder>... [--top=N] [--from=FN] [--inclusive=FN,FN]
//     --from=FN        count only samples from the first one with FN on its stack (so that start-up
//                      and module loading are left out, e.g. --from=requireServiceToken)
//     --inclusive=...  also print the inclusive share of these functions (their callees counted)
// A folder stands for every .cpuprofile in it (one per process that ran); they are added up.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

/**
 * @typedef {{ functionName: string, url: string, lineNumber: number }} CallFrame
 * @typedef {{ id: number, callFrame: CallFrame, children?: number[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[] }} CpuProfile
 */

const args = process.argv.slice(2);
const option = (/** @type {string} */ name) =>
  args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const top = Number(option('top') ?? 15);
const from = option('from');
const inclusiveNames = option('inclusive')?.split(',') ?? [];
const inputs = args.filter((arg) => !arg.startsWith('--'));
if (inputs.length === 0) {
  console.error('usage: node bench/profile-summary.mjs <profile or folder>... [--top=N] [--from=FN]');
  process.exit(2);
}

/** Self time (µs) by entry name, inclusive time by function name, and the busy total. */
const self = new Map();
const inclusive = new Map(inclusiveNames.map((name) => [name, 0]));
let busy = 0;
for (const file of inputs.flatMap(profileFiles)) add(JSON.parse(readFileSync(file, 'utf8')));

console.log(`busy ${(busy / 1000).toFixed(0)} ms${from ? ` from the first ${from}` : ''}`);
console.log('| self time | share |\n| --- | ---: |');
for (const [name, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`| ${name} | ${percent(micros)} |`);
}
for (const [name, micros] of inclusive) console.log(`inclusive ${name}: ${percent(micros)}`);

/** @param {string} path */
function profileFiles(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(path, name));
}

/** @param {CpuProfile} profile */
function add(profile) {
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  /** @type {Map<number, number>} */
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  /** @type {(id: number) => string[]} the function names on the stack of a sample, leaf first */
  const stackOf = (id) => {
    const names = [];
    for (let at = /** @type {number | undefined} */ (id); at !== undefined; at = parentOf.get(at)) {
      names.push(byId.get(at)?.callFrame.functionName ?? '');
    }
    return names;
  };
  let counting = from === undefined;
  profile.samples.forEach((id, index) => {
    // A sample's time is the delta to the next sample.
    const micros = profile.timeDeltas[index + 1] ?? 0;
    const stack = stackOf(id);
    if (!counting && from !== undefined && stack.includes(from)) counting = true;
    if (!counting) return;
    const frame = /** @type {ProfileNode} */ (byId.get(id)).callFrame;
    if (frame.functionName === '(idle)') return;
    busy += micros;
    const name = `\`${frame.functionName || '(anonymous)'}\` ${frame.url ? `${basename(frame.url)}:${frame.lineNumber + 1}` : ''}`;
    self.set(name.trim(), (self.get(name.trim()) ?? 0) + micros);
    for (const wanted of inclusiveNames) {
      if (stack.includes(wanted)) inclusive.set(wanted, (inclusive.get(wanted) ?? 0) + micros);
    }
  });
}

/** @param {number} micros */
function percent(micros) {
  return `${((100 * micros) / busy).toFixed(1)}%`;
}
