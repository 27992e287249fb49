// Load generation: autocannon in processes of their own (load-worker.mjs), kept up across runs.
import { forkWorker } from './worker-process.mjs';

const WORKER = new URL('./load-worker.mjs', import.meta.url);

/**
 * `count` load generators (autocannon, each in a process of its own) that stay up across runs:
 * a process forked per run would measure its own warm-up (JIT, connections) along with the
 * server, and on a shared machine that was much of the noise of a short run. Every generator is
 * ready before any run begins. `measure(specs)` runs specs[i] on generator i, all at once; a
 * spec is { url, connections, durationSec, headers, overallRate?, randomKidIssuer? }, and each
 * result { rps (2xx per second), totalRps, p50, p99 (ms), ok, non2xx, errors, ... }.
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

/** Throws when a run that should have been all 2xx was not. */
export function expectAllOk(result, what) {
  if (result.non2xx > 0 || result.errors > 0 || result.ok === 0) {
    throw new Error(
      `${what}: ${result.ok} ok, ${result.non2xx} non-2xx, ${result.errors} errors (${JSON.stringify(result.statusCodes)})`,
    );
  }
  return result;
}
