// @ts-check
// A real redis-server for the bench (scenario 6), on a free loopback port in a temporary working
// directory, saving nothing (`--save '' --appendonly no`), so that what the bench measures is
// Redis answering from memory, as the replicas' shared store. The same logic as the Redis suite's
// test/redis/redis-server.ts, which the bench cannot import (TypeScript, tied to vitest).
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { freePort, tempDir } from '@jwt-handoff/testkit';

/** The redis-server binary: REDIS_SERVER, or the one on PATH (Debian's `redis-server` package). */
export const REDIS_SERVER_BINARY = process.env.REDIS_SERVER ?? 'redis-server';

/** Whether redis-server can be run here. */
export function redisServerAvailable() {
  return spawnSync(REDIS_SERVER_BINARY, ['--version']).status === 0;
}

/**
 * A running redis-server.
 * @typedef {object} RedisServer
 * @property {string} url `redis://127.0.0.1:<port>`
 * @property {number} pid its process, for reading its CPU time
 * @property {() => Promise<void>} stop stops it (SIGTERM), waits for the exit, removes its directory
 */

/**
 * Starts redis-server and resolves once it accepts connections.
 * @returns {Promise<RedisServer>}
 */
export async function startRedisServer() {
  const port = await freePort();
  const dir = tempDir('bench-redis');
  const child = spawn(
    REDIS_SERVER_BINARY,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  let output = '';
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server was not ready in 10 s:\n${output}`)),
        10_000,
      );
      const onData = (/** @type {Buffer} */ chunk) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve(undefined);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${output}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('redis-server has no process id');
  return { url: `redis://127.0.0.1:${port}`, pid, stop };
}
