// Measures one HTTP target with autocannon, in a process of its own (load-worker.mjs).
import { forkWorker } from './worker-process.mjs';

const WORKER = new URL('./load-worker.mjs', import.meta.url);

/**
 * Runs autocannon runs together, each in its own process: every process is started and ready
 * before any run begins, so that no run is measured while another generator is still booting.
 * `specs` are { url, connections, durationSec, headers, overallRate?, randomKidIssuer? }; each
 * result is { rps (2xx per second), totalRps, p50, p99 (ms), ok, non2xx, errors, ... }.
 */
export async function measureLoads(specs, { nodeFlags = [] } = {}) {
  const workers = await Promise.all(specs.map(() => forkWorker(WORKER, { execArgv: nodeFlags })));
  try {
    return await Promise.all(specs.map((spec, i) => workers[i].call('run', spec)));
  } finally {
    await Promise.all(workers.map((worker) => worker.stop()));
  }
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
