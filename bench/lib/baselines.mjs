// Starts one of the comparison servers of bench/servers/ in its own process.
import { forkWorker } from './worker-process.mjs';

/** `name` is bare, session or peer; resolves with { url, ...what it reported, stop() }. */
export async function startBaseline(name, args, { nodeFlags = [] } = {}) {
  const worker = await forkWorker(new URL(`../servers/${name}.mjs`, import.meta.url), {
    execArgv: nodeFlags,
  });
  try {
    const started = await worker.call('start', args);
    return { ...started, pid: worker.pid, stop: () => worker.stop() };
  } catch (err) {
    await worker.stop();
    throw err;
  }
}
