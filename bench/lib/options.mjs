// @ts-check
// Command-line options of `npm run bench`.
//   --quick          a short run for CI: every scenario once, few rounds, smaller memory run;
//                    exits non-zero when a gated target (flood, memory) fails
//   --only=1,4       run only these scenarios
//   --rounds=N       rounds per interleaved measurement (default 5, at least 5 outside --quick)
//   --cpu-prof       write V8 CPU profiles of every server and driver to bench/results/profiles
import { resolve } from 'node:path';

/** @typedef {ReturnType<typeof parseOptions>} Options */

/** @param {readonly string[]} argv the arguments after the script's path */
export function parseOptions(argv) {
  /** @type {{ quick: boolean, only: number[] | undefined, rounds: number | undefined, cpuProf: boolean }} */
  const options = { quick: false, only: undefined, rounds: undefined, cpuProf: false };
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg === '--cpu-prof') options.cpuProf = true;
    else if (arg.startsWith('--only=')) options.only = arg.slice('--only='.length).split(',').map(Number);
    else if (arg.startsWith('--rounds=')) options.rounds = Number(arg.slice('--rounds='.length));
    else throw new Error(`unknown option ${arg} (use --quick, --only=1,2, --rounds=N, --cpu-prof)`);
  }
  const rounds = options.rounds ?? (options.quick ? 2 : 5);
  if (!options.quick && !(rounds >= 5)) throw new Error('--rounds must be at least 5 outside --quick');
  const profileDir = resolve('bench/results/profiles');
  return {
    ...options,
    rounds,
    profileDir,
    /** Node flags for a process to be profiled, when --cpu-prof is on. */
    nodeFlags: (/** @type {string} */ name) =>
      options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${name}`] : [],
  };
}
