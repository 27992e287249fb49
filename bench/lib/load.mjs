// Measures one HTTP target with autocannon, in a process of its own (load-worker.mjs).
import { forkWorker } from './worker-process.mjs';

const WORKER = new URL('./load-worker.mjs', import.meta.url);

/**
 * Runs autocannon runs together, each in its own process: every process is started and ready
 * before any run begins, so that no run is measured while another generator is still booting.
 * `specs` are { url, connections, durationSec, headers, overallRate?, randomKidIssuer? }; each
 * result is { rps (2xx per second), totalRps, p50, p99 (ms), ok, non2xx, errors, ... }.
 */
export async function measureLoads(specs, options = {}) {
  const generators = await startLoadGenerators(specs.length, options);
  try {
    return await generators.measure(specs);
  } finally {
    await generators.stop();
  }
}

/**
 * `count` load generators that stay up across runs, for a scenario made of many short runs: a
 * process forked per run measures its own warm-up (JIT, connections) along with the server, and
 * on a shared machine that was much of the noise of a 1 s run. `measure(specs)` runs specs[i]
 * on generator i, all at once, and resolves with their results as {@link measureLoads} does.
 */
export async function startLoadGenerators(count, { nodeFlags = [] } = {}) {
  const workers = await Promise.all(
    Array.from({ length: count }, () => forkWorker(WORKER, { execArgv: nodeFlags })),
  );
  return {
    measure(specs) {
      if (specs.length > workers.length) {
        throw new Error(`${specs.length} runs for ${workers.length} load generators`);
      }
      return Promise.all(specs.map((spec, i) => workers[i].call('run', spec)));
    },
    stop: () => Promise.all(workers.map((worker) => worker.stop())),
  };
}

/** One autocannon run in its own process; see {@link measureLoads}. */
export async function measureLoad(spec, options = {}) {
  const [result] = await measureLoads([spec], options);
  return result;
}

/** Throws when a run that should have been all 2xx was not. */
export function expectAllOk(result, what) {
  if (result.non2xx > 0 || result.errors > 0 || result.ok === 0) {
    throw new Error(
      `${what}: ${result.ok} ok, ${result.non2xx} non-2xx, ${result.errors} errors (${JSON.stringify(result.statusCodes)})`,
    );
  }
  return result;
}
