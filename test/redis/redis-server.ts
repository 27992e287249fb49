import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { freePort, tempDir } from '@jwt-handoff/testkit';
import { type Scope, testScope } from '@jwt-handoff/testkit/vitest';
import { describe } from 'vitest';

/** The redis-server binary: REDIS_SERVER, or the one on PATH (Debian's `redis-server` package). */
export const REDIS_SERVER_BINARY = process.env.REDIS_SERVER ?? 'redis-server';

/** Whether redis-server can be run here. */
export function redisServerAvailable(): boolean {
  return spawnSync(REDIS_SERVER_BINARY, ['--version']).status === 0;
}

/**
 * `describe`, skipped when redis-server is missing. Only outside CI: the suite's global setup
 * (global-setup.ts) fails the whole run there instead, so CI never counts a skip as a pass.
 */
export const describeWithRedis = describe.skipIf(!redisServerAvailable());

/** A real redis-server on a loopback port, with no persistence, which a test can stop and start. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops the server (SIGTERM) and waits for it to exit: an outage, as clients see it. */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty (nothing is saved). */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open and nothing answers. */
  pause(): void;
  /** Lets a paused process go on (SIGCONT). */
  resume(): void;
  /** Everything the server printed. */
  output(): string;
}

/**
 * Starts redis-server on a free port with a temporary working directory, saving nothing
 * (`--save '' --appendonly no`); stopped and its directory removed when `scope` ends.
 */
export async function startRedisServer(scope: Scope = testScope): Promise<RedisServer> {
  const port = await freePort();
  const dir = tempDir('redis');
  let child: ChildProcess | undefined;
  let output = '';
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await exited;
  };
  const start = async () => {
    const started = spawn(
      REDIS_SERVER_BINARY,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`redis-server was not ready in 10 s:\n${output}`)),
        10_000,
      );
      const onData = (chunk: Buffer) => {
        output += chunk;
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      started.stdout?.on('data', onData);
      started.stderr?.on('data', onData);
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${output}`));
      });
    });
  };
  const signal = (name: NodeJS.Signals) => {
    if (!child?.kill(name)) throw new Error(`redis-server is not running (${name})`);
  };
  scope(async () => {
    child?.kill('SIGCONT');
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    output: () => output,
  };
}
