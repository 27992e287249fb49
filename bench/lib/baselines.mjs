// @ts-check
// Starts one of the comparison servers of bench/servers/ in its own process.
import { forkWorker } from './worker-process.mjs';

/**
 * A comparison server, up in its own process.
 * @typedef {object} Baseline
 * @property {string} url
 * @property {string} [cookie] the session baseline's signed session cookie (name=value)
 * @property {number} pid
 * @property {() => Promise<void>} stop
 */

/**
 * Starts bench/servers/`name`.mjs and calls its `start(args)`; resolves with what it reported,
 * its pid and `stop()`.
 * @param {'bare' | 'session' | 'peer' | 'server2-no-auth'} name
 * @param {object} args
 * @param {{ nodeFlags?: string[] }} [options]
 * @returns {Promise<Baseline>}
 */
export async function startBaseline(name, args, { nodeFlags = [] } = {}) {
  const worker = await forkWorker(new URL(`../servers/${name}.mjs`, import.meta.url), {
    execArgv: nodeFlags,
  });
  try {
    /** @type {{ url: string, cookie?: string }} */
    const started = await worker.call('start', args);
    return { ...started, pid: worker.pid, stop: () => worker.stop() };
  } catch (err) {
    await worker.stop();
    throw err;
  }
}
